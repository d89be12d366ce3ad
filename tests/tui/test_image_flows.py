"""Finished images by keys alone, with Pilot against the simulator over loopback HTTP: their
details, sending the best on through img2img and upscale, the full-screen preview, and what
the keys of an image do."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from textual.widgets import Input, Label, TextArea

from stablenew_tui.paths import AppPaths
from stablenew_tui.tui.screens.details import DetailsScreen
from stablenew_tui.tui.screens.main import MainScreen
from stablenew_tui.tui.screens.preview import FullPreview
from stablenew_tui.tui.screens.refine import RefineDialog
from stablenew_tui.tui.widgets.results import ResultsTable
from tests.tui.helpers import (
    Notifications,
    app_for,
    node_state,
    posted,
    results_in_view,
    run_with,
    wait_until,
)

SMALL = {"images-per-prompt": "4", "txt2img-steps": "2", "txt2img-width": "64",
         "txt2img-height": "64"}  # fmt: skip


def _b64(path: str) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode()


async def _details(pilot) -> DetailsScreen:
    """Enter on the selected result, and its details in view."""
    app = pilot.app
    wanted = app.screen.query_one(ResultsTable).selected
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, DetailsScreen)
                     and app.screen.row == wanted, what="the details in view")  # fmt: skip
    return app.screen


def _shown(screen: DetailsScreen) -> str:
    """The details as the view lays them out: section titles, labels and values."""
    assert screen.details is not None
    return "\n".join(
        f"{section.title}\n" + "\n".join(f"{label} {value}" for label, value in section.rows)
        for section in screen.details.sections
    )


def _ratings() -> list[dict]:
    path = AppPaths.from_environment().data_dir / "ratings.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_run_four_look_closer_refine_the_two_best_and_rate_them_at_80x24(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await run_with(
            pilot,
            "a red {fox|owl|cat} in snow",
            {**SMALL, "img2img-denoising-strength": "0.55", "upscale-scale": "3"},
        )
        table = await results_in_view(pilot, 4)
        # Rows drawn in several batches keep the cursor on the image it was on: to the newest.
        await pilot.press("ctrl+home")

        details = await _details(pilot)  # Enter on the newest
        text = _shown(details)
        assert f"seed {table.selected.seed}" in text and "prompt a red" in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)

        await pilot.press("space", "space")  # the two newest, marked; the cursor moves on
        chosen = [row.path for row in table.marked_rows()]
        assert len(chosen) == 2
        await pilot.press("i")
        assert isinstance(app.screen, RefineDialog)
        await pilot.press("enter")
        await results_in_view(pilot, 6)

        await pilot.press("ctrl+home", "4")  # the newest: a refined one
        rated = table.selected
    sent = posted(sim, "img2img")
    assert [body["init_images"] for body in sent] == [[_b64(path)] for path in chosen]
    assert {body["denoising_strength"] for body in sent} == {0.55}
    made = {body["seed"]: body["prompt"] for body in posted(sim, "txt2img")}
    assert all(made[body["seed"]] == body["prompt"] for body in sent), "each keeps its prompt"
    assert [body["upscaling_resize"] for body in posted(sim, "extra-single-image")] == [3.0, 3.0]
    assert "/upscale/" in rated.path
    assert _ratings()[-1]["path"] == rated.path and _ratings()[-1]["rating"] == 4


async def test_the_refine_dialog_starts_from_the_stages_on_in_the_cards_and_toggles(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("f3")
        await pilot.click("#field-stages-upscale")
        await run_with(pilot, "a lone tree", {**SMALL, "images-per-prompt": "1"})
        await results_in_view(pilot, 1)
        before = len(posted(sim, "extra-single-image"))
        await pilot.press("i")  # nothing marked: the selected image
        dialog = app.screen
        assert isinstance(dialog, RefineDialog)
        assert dialog.stages == {"img2img": False, "upscale": True}
        await pilot.press("u", "enter")  # nothing on: refused, the dialog stays
        assert app.screen is dialog
        await pilot.press("i", "enter")
        await results_in_view(pilot, 2)
    assert len(posted(sim, "img2img")) == 1
    assert len(posted(sim, "extra-single-image")) == before, "upscale was turned off"


async def test_the_details_view_shows_every_setting_and_its_keys_act_on_the_image(sim):
    app = app_for(sim.url)
    notes = Notifications()
    async with app.run_test(size=(120, 40), message_hook=notes.collect) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        app.screen.query_one("#negative", Input).value = "fog"
        await run_with(pilot, "a {red|blue} kite", {**SMALL, "images-per-prompt": "1"})
        table = await results_in_view(pilot, 1)
        row = table.selected
        details = await _details(pilot)
        text = _shown(details)
        for expected in (row.path, str(row.seed), "a {red|blue} kite", "Euler a",
                         "txt2img: every setting sent", "cfg_scale", "Steps: 2"):  # fmt: skip
            assert expected in text, expected

        await pilot.press("y")
        assert app.clipboard == row.prompt
        await pilot.press("Y")
        assert app.clipboard == row.path
        await pilot.press("s")
        assert app.screen is details, "reusing the seed stays in the details"
        main = app.screen_stack[-2]
        assert main.query_one("#field-txt2img-seed", Input).value == str(row.seed)

        await pilot.press("a")
        await wait_until(pilot, lambda: len(posted(sim, "txt2img")) == 2, what="made again")
        await pilot.press("A")
        await wait_until(pilot, lambda: len(posted(sim, "txt2img")) == 3, what="new seed")

        await pilot.press("e")
        assert app.screen is main and main.active_tab == "prompt"
        assert main.query_one("#template", TextArea).text == row.prompt
        assert main.query_one("#negative", Input).value == "fog"
    first, again, new_seed = posted(sim, "txt2img")
    assert again == first
    assert new_seed["seed"] != first["seed"] and {**new_seed, "seed": 0} == {**first, "seed": 0}
    assert notes.any("copied") or notes.any("set-clipboard on")


async def test_full_screen_preview_steps_through_the_results_and_rates_them(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await run_with(pilot, "a still pond", {**SMALL, "images-per-prompt": "3"})
        table = await results_in_view(pilot, 3)
        # Rows drawn in several batches keep the cursor on the image it was on: to the newest.
        await pilot.press("ctrl+home", "v")
        preview = app.screen
        assert isinstance(preview, FullPreview)
        caption = preview.query_one("#caption", Label)
        assert str(caption.render()).startswith("1 of 3")
        await pilot.press("n", "n", "n")  # stays on the last
        assert str(caption.render()).startswith("3 of 3")
        await pilot.press("5")
        assert "★★★★★" in str(caption.render())
        await pilot.press("p", "2")
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert table.cursor_row == 1, "the table is on the image last shown"
        rows = [table.get_row_at(n) for n in range(3)]
    ratings = _ratings()
    assert [(line["rating"]) for line in ratings] == [5, 2]
    assert [str(cells[2]) for cells in rows] == ["·", "★★", "★★★★★"]


async def test_the_full_preview_in_tmux_draws_half_blocks(sim, monkeypatch):
    from stablenew_tui.config import AppConfig, UIConfig

    monkeypatch.setenv("TMUX", "/tmp/tmux-test/default,1,0")
    app = app_for(sim.url, AppConfig(ui=UIConfig(image_preview="auto")))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await run_with(pilot, "a still pond", {**SMALL, "images-per-prompt": "1"})
        await results_in_view(pilot, 1)
        await pilot.press("v")
        assert app.screen.method == "halfcell"


async def test_an_image_deleted_since_it_was_listed_is_a_notification(sim):
    app = app_for(sim.url)
    notes = Notifications()
    async with app.run_test(size=(80, 24), message_hook=notes.collect) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await run_with(pilot, "a fleeting thing", {**SMALL, "images-per-prompt": "1"})
        table = await results_in_view(pilot, 1)
        Path(table.selected.path).unlink()
        await pilot.press("enter")
        await wait_until(pilot, lambda: notes.any("no such file"), what="the notice")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("i", "enter")
        await wait_until(pilot, lambda: sum("no such file" in m for m in notes.messages) == 2,
                         what="refining it refused too")  # fmt: skip
    assert posted(sim, "img2img") == []


async def test_the_views_opened_again_show_the_image_now_selected(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await run_with(pilot, "a {red|blue|green} door", {**SMALL, "images-per-prompt": "2"})
        table = await results_in_view(pilot, 2)
        first = await _details(pilot)
        assert f"seed {table.selected.seed}" in _shown(first)
        await pilot.press("escape", "j")
        second = await _details(pilot)
        assert second is first, "one view, shown again"
        assert f"seed {table.selected.seed}" in _shown(second)
        await pilot.press("v")
        preview = app.screen
        assert isinstance(preview, FullPreview) and preview.row == table.selected
        await pilot.press("escape", "escape", "k", "v")
        assert app.screen is preview and preview.row == table.selected
        assert str(preview.query_one("#caption", Label).render()).startswith("1 of 2")


async def test_escape_from_the_full_preview_opened_from_details_shows_the_image_last_shown(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await run_with(pilot, "a winding stair", {**SMALL, "images-per-prompt": "3"})
        table = await results_in_view(pilot, 3)
        await pilot.press("ctrl+home")
        details = await _details(pilot)
        first = table.selected
        await pilot.press("v", "n", "n")  # full screen, then on to the third image
        last = table.selected
        assert last != first and app.screen.row == last
        await pilot.press("escape")
        await wait_until(pilot, lambda: details.row == last, what="the last image's details")
        assert app.screen is details
        assert f"seed {last.seed}" in _shown(details)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen) and table.selected == last
