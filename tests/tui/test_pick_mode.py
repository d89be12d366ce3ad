"""Pick mode by keys alone, with Pilot, on a comparison made against the simulator: the
palette opens it, ←/→ records the better image, s skips a pair, Esc ends."""

from __future__ import annotations

from textual.widgets import Label

from stablenew_tui.learning.picks import PICKS_NAME, PickStore
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.compare_grid import ComparisonGrid
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.tui.screens.main import MainScreen
from stablenew_tui.tui.screens.pick import PickScreen
from stablenew_tui.tui.widgets.results import ImagePreview
from tests.integration.pipeline_helpers import launcher_for, run_to_end
from tests.tui.helpers import Notifications, app_for, results_in_view, wait_until

SMALL = {"txt2img": {"steps": 2, "width": 64, "height": 64, "seed": 5}}


async def make_comparison(url: str, prompt: str, axes: list[str]) -> str:
    launcher = launcher_for(url)
    try:
        request = RunRequest(prompt=prompt, flags=SMALL, grid=ComparisonGrid.parse(axes))
        prepared, summary, _ = await run_to_end(launcher, request)
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": len(prepared.jobs)}
    return prepared.run.id


def shown(screen: PickScreen) -> tuple[str, str]:
    return (
        str(screen.query_one("#left-cell", Label).render()),
        str(screen.query_one("#right-cell", Label).render()),
    )


async def open_pick_mode(pilot) -> PickScreen:
    app = pilot.app
    await pilot.press("ctrl+p", *"Compare: pick", "enter")
    await wait_until(pilot, lambda: isinstance(app.screen, PickScreen), what="pick mode")
    return app.screen


async def test_picks_go_to_the_picks_file_and_pairs_follow_what_is_least_known(sim):
    run_id = await make_comparison(sim.url, "a fox", ["cfg=5,7", "sampler=Euler a,DDIM"])
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = await open_pick_mode(pilot)
        await pilot.pause()
        assert shown(screen) == ("cfg=5 · sampler=Euler a", "cfg=5 · sampler=DDIM")
        previews = list(screen.query(ImagePreview))
        await wait_until(pilot, lambda: all(p.border_subtitle for p in previews),
                         what="both images drawn")  # fmt: skip
        assert previews[0].border_subtitle != previews[1].border_subtitle
        await pilot.press("right")  # DDIM is better
        await pilot.pause()
        # The two images not yet compared come next.
        assert shown(screen) == ("cfg=7 · sampler=Euler a", "cfg=7 · sampler=DDIM")
        await pilot.press("s")
        await pilot.pause()
        skipped = {"cfg=7 · sampler=Euler a", "cfg=7 · sampler=DDIM"}
        assert set(shown(screen)) != skipped
        left, _ = shown(screen)
        await pilot.press("left")
        await pilot.pause()
        assert "2 picks of this comparison (2 now)" in str(
            screen.query_one("#caption", Label).render()
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), what="back")
    picks = PickStore(AppPaths.from_environment().data_dir / PICKS_NAME).picks
    assert [(p.preferred.cell["sampler"], p.other.cell["sampler"]) for p in picks[:1]] == [
        ("DDIM", "Euler a")
    ]
    assert picks[1].preferred.cell == dict(
        zip(("cfg", "sampler"), left.replace("cfg=", "").split(" · sampler="), strict=True)
    )
    assert {p.run_id for p in picks} == {run_id}
    assert picks[0].template == "a fox" and picks[0].axes[0]["name"] == "cfg"
    assert picks[0].preferred.path.endswith(".png") and picks[0].preferred.job_id


async def test_the_results_selection_chooses_the_comparison(sim):
    older = await make_comparison(sim.url, "a hare", ["steps=2,3"])
    await make_comparison(sim.url, "a fox", ["cfg=5,7"])
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = await results_in_view(pilot, 4)
        hare = next(row.path for row in table.results.values() if row.run_id == older)
        table.move_cursor(row=table.get_row_index(hare))
        await pilot.pause()
        assert table.selected is not None and table.selected.run_id == older
        screen = await open_pick_mode(pilot)
        await pilot.pause()
        assert screen.session.run.id == older
        assert shown(screen) == ("steps=2", "steps=3")


async def test_without_a_comparison_pick_mode_says_how_to_make_one(sim):
    notes = Notifications()
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24), message_hook=notes.collect) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p", *"Compare: pick", "enter")
        await wait_until(pilot, lambda: notes.any("no comparison in the queue"), what="notice")
        assert isinstance(app.screen, MainScreen)
