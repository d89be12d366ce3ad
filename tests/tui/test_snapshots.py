"""The main screen at the two sizes users work at: 80×24 (a tmux pane) and 120×40."""

from __future__ import annotations

import pytest
from textual.widgets import Select

from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.lastrun import save_last_run
from stablenew_tui.pipeline.settings import merge_settings
from stablenew_tui.sim import SimServer
from tests.tui.helpers import app_for, node_state, option_labels, wait_until

TEMPLATE = "a lighthouse at {dusk|dawn|night}, {oil painting|ink drawing|photo}"


@pytest.fixture
def warm_app(stablenew_home):
    """A fixed seed and prompt from a last run, so every frame is the same on every machine."""
    settings = merge_settings(("t", {"txt2img": {"seed": 1234, "steps": 25}}))
    data_dir = AppPaths.from_environment().data_dir
    save_last_run(data_dir / "last_run.toml", settings, TEMPLATE, "blurry, lowres")
    simulator = SimServer(speed=0).start_in_thread()
    try:
        yield app_for(simulator.url)
    finally:
        simulator.stop()


async def _ready(pilot) -> None:
    """The node is READY and its catalog fills the dropdowns: nothing is left to arrive."""
    await wait_until(pilot, lambda: node_state(pilot.app) == "READY", what="READY")
    model = pilot.app.screen.query_one("#field-txt2img-model", Select)
    await wait_until(pilot, lambda: len(option_labels(model)) > 2, what="catalog listed")
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_main_screen(snap_compare, warm_app, size):
    assert snap_compare(warm_app, terminal_size=size, run_before=_ready)


def test_stage_cards_120x40(snap_compare, warm_app):
    async def stages(pilot) -> None:
        await _ready(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: pilot.app.screen.active_tab == "stages", what="Stages")

    assert snap_compare(warm_app, terminal_size=(120, 40), run_before=stages)
