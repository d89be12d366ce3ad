"""The Results tab: the preview on first open, columns that fit 80 and 120 columns, and the
rated filter and best-first order. Earlier images come from a real run on the simulator."""

from __future__ import annotations

import csv
import gc
from pathlib import Path

import pytest
from textual.widgets import Static

from stablenew_tui.learning.ratings import RatingStore
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.pipeline.summary import SUMMARY_NAME
from stablenew_tui.tui.screens.help import HelpScreen
from stablenew_tui.tui.widgets.results import PROMPT_MIN_WIDTH, ImagePreview
from tests.integration.pipeline_helpers import launcher_for, run_to_end
from tests.tui.helpers import app_for, drawn_text, results_in_view, wait_until

PROMPT = "a lighthouse at dusk with a green door, oil painting"


async def _earlier_images(sim, count: int) -> list[Path]:
    """`count` images made by an earlier session, oldest first."""
    flags = {"images_per_prompt": count, "txt2img": {"steps": 2, "width": 64, "height": 64}}
    launcher = launcher_for(sim.url)
    try:
        prepared, _, _ = await run_to_end(launcher, RunRequest(prompt=PROMPT, flags=flags))
    finally:
        await launcher.aclose()
    return sorted((Path(prepared.run.folder) / "txt2img").glob("*.png"))


async def test_the_preview_shows_the_selected_newest_image_when_results_first_open(sim):
    await _earlier_images(sim, 3)
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await results_in_view(pilot, 3)
        newest = max(table.results.values(), key=lambda row: row.time)
        assert table.selected == newest
        preview = app.screen.query_one(ImagePreview)
        shown = Path(newest.path).name
        await wait_until(pilot, lambda: preview.border_subtitle == shown,
                         what=f"the preview of {shown}, not {preview.border_subtitle}")  # fmt: skip

        def decoding() -> bool:
            return any(w.group == "preview" and not w.is_finished for w in app.workers)

        await pilot.pause()  # a highlight still queued must not move the preview after it
        await wait_until(pilot, lambda: not decoding(), what="decoding done")
        assert preview.border_subtitle == shown


@pytest.mark.parametrize(
    ("size", "columns"),
    [
        ((80, 24), ["mark", "time", "rating", "prompt"]),
        ((120, 40), ["mark", "time", "rating", "model", "prompt"]),
    ],
    ids=["80x24", "120x40"],
)
async def test_the_columns_fit_the_width_and_the_prompt_takes_the_rest(sim, size, columns):
    await _earlier_images(sim, 1)
    app = app_for(sim.url)
    async with app.run_test(size=size) as pilot:
        table = await results_in_view(pilot, 1)
        shown = {column.key.value: column for column in table.columns.values()}
        assert list(shown) == columns
        used = sum(column.width + 2 for column in shown.values())  # one space each side
        assert used == table.scrollable_content_region.width, "exactly the width there is"
        assert shown["prompt"].width >= PROMPT_MIN_WIDTH
        assert table.get_row_at(0)[-1] == PROMPT


async def test_rated_and_unrated_filters_and_best_first(sim):
    older, middle, newer = await _earlier_images(sim, 3)
    ratings = RatingStore(AppPaths.from_environment().data_dir / "ratings.jsonl")
    ratings.rate(str(older), 5)
    ratings.rate(str(newer), 2)
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await results_in_view(pilot, 3)

        def listed() -> list[str]:
            return [Path(str(key.value)).name for key in table.rows]

        await pilot.press("f")
        assert sorted(listed()) == sorted([older.name, newer.name])
        assert table.border_title == "results · rated only"
        await pilot.press("o")
        assert table.get_row_index(str(older)) == 0, "five stars first"
        assert table.border_title == "results · rated only · best first"
        await pilot.press("f")
        assert listed() == [middle.name] and table.border_title.startswith("results · unrated")
        await pilot.press("3")  # rated: no longer unrated, so it leaves the list
        assert table.row_count == 0
        await pilot.press("f", "o")
        assert table.row_count == 3 and table.border_title == "results"
        assert table.get_row_index(str(newer)) == 0, "newest first again"

        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        help_text = "\n".join(drawn_text(static) for static in app.screen.query(Static))
    assert "results.filter" in help_text and "results.order" in help_text
    assert RatingStore(ratings.path).get(str(middle)) == 3


async def test_a_rating_key_reaches_the_ended_run_s_summary_at_once(sim):
    (image,) = await _earlier_images(sim, 1)
    summary = image.parent.parent / SUMMARY_NAME
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await results_in_view(pilot, 1)
        await pilot.press("4")

        def rated_in_summary() -> bool:
            with summary.open(newline="", encoding="utf-8") as handle:
                return [row["rating"] for row in csv.DictReader(handle)] == ["4"]

        await wait_until(pilot, rated_in_summary, what="the rating in summary.csv")


async def test_rating_through_the_results_keeps_a_bounded_number_of_objects_alive(sim):
    """Each rating or cursor move draws the rows in view anew; what is kept of earlier
    drawings must stay about a screen's worth, or every full garbage collection (a pause of
    the whole app) scans thousands more objects."""
    await _earlier_images(sim, 30)
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await results_in_view(pilot, 30)

        async def rate_all(rating: str, move: str) -> None:
            for _ in range(30):
                await pilot.press(rating, move)
            await pilot.pause()

        await rate_all("3", "j")
        gc.collect()
        before = len(gc.get_objects())
        for rating, move in (("4", "k"), ("5", "j"), ("2", "k")):
            await rate_all(rating, move)
        gc.collect()
        kept = len(gc.get_objects()) - before
        assert [row.rating for row in table.results.values()] == [2] * 30
        assert kept < 2_000, f"{kept} more objects alive after rating 90 times"
