"""Every main screen and dialog at the two sizes users work at: 80×24 (a tmux pane) and
120×40. The app starts warm (a fixed seed and template), with three images from an earlier
session, and the clock reads the same time on every machine."""

from __future__ import annotations

import asyncio
import time

import pytest
from textual.command import CommandPalette
from textual.widgets import Input, Select

from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.lastrun import save_last_run
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.pipeline.settings import merge_settings
from stablenew_tui.sim import SimServer
from stablenew_tui.tui.screens.help import HelpScreen
from stablenew_tui.tui.screens.pack_browser import PackBrowser
from stablenew_tui.tui.widgets.nodes_view import NodesView
from stablenew_tui.tui.widgets.results import ResultsTable
from tests.integration.pipeline_helpers import launcher_for, run_to_end
from tests.tui.helpers import app_for, drawn_text, node_state, option_labels, wait_until

TEMPLATE = "a lighthouse at {dusk|dawn|night}, {oil painting|ink drawing|photo}"
SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
NOON = time.gmtime(12 * 3600)  # what every clock in the app reads


@pytest.fixture
def warm_app(stablenew_home, monkeypatch):
    """A fixed seed and prompt from a last run, and images made by an earlier session, so
    every frame is the same on every machine."""
    monkeypatch.setattr(time, "localtime", lambda seconds=None: NOON)
    simulator = SimServer(speed=0).start_in_thread()
    try:
        flags = {"images_per_prompt": 3, "txt2img": {"seed": 1234, "width": 64, "height": 64}}
        asyncio.run(_earlier_session(simulator.url, flags))
        settings = merge_settings(("t", {"txt2img": {"seed": 1234, "steps": 25}}))
        data_dir = AppPaths.from_environment().data_dir
        save_last_run(data_dir / "last_run.toml", settings, TEMPLATE, "blurry, lowres")
        yield app_for(simulator.url)
    finally:
        simulator.stop()


async def _earlier_session(url: str, flags: dict) -> None:
    launcher = launcher_for(url)
    try:
        await run_to_end(launcher, RunRequest(prompt=TEMPLATE, flags=flags))
    finally:
        await launcher.aclose()


async def _ready(pilot) -> None:
    """The node is READY and its catalog fills the dropdowns: nothing is left to arrive."""
    await wait_until(pilot, lambda: node_state(pilot.app) == "READY", what="READY")
    model = pilot.app.screen.query_one("#field-txt2img-model", Select)
    await wait_until(pilot, lambda: len(option_labels(model)) > 2, what="catalog listed")
    await pilot.pause()


async def _tab(pilot, key: str, tab: str) -> None:
    await _ready(pilot)
    await pilot.press(key)
    await wait_until(pilot, lambda: pilot.app.screen.active_tab == tab, what=tab)


async def _prompt(pilot) -> None:
    await _ready(pilot)


async def _stages(pilot) -> None:
    await _tab(pilot, "f3", "stages")


async def _queue_paused(pilot) -> None:
    await _tab(pilot, "f4", "queue")
    await pilot.press("f8")  # PAUSED shows in the progress line


async def _results(pilot) -> None:
    await _tab(pilot, "f5", "results")
    table = pilot.app.screen.query_one(ResultsTable)
    await wait_until(pilot, lambda: table.row_count == 3, what="three results")
    preview = pilot.app.screen.query_one("#preview")
    await wait_until(pilot, lambda: preview.border_subtitle, what="the preview drawn")
    await pilot.pause()


async def _nodes(pilot) -> None:
    await _tab(pilot, "ctrl+f", "nodes")
    view = pilot.app.screen.query_one(NodesView)
    await wait_until(pilot, lambda: "READY" in drawn_text(view), what="the node listed")
    await pilot.pause()


@SIZES
@pytest.mark.parametrize(
    "tab",
    [_prompt, _stages, _queue_paused, _results, _nodes],
    ids=["prompt", "stages", "queue", "results", "nodes"],
)
def test_main_tabs(snap_compare, warm_app, size, tab):
    assert snap_compare(warm_app, terminal_size=size, run_before=tab)


@SIZES
def test_pack_browser(snap_compare, warm_app, size):
    async def open_packs(pilot) -> None:
        await _ready(pilot)
        await pilot.press("ctrl+o")
        browser = pilot.app.screen
        assert isinstance(browser, PackBrowser)
        await pilot.press("enter")  # the first pack's prompts
        await wait_until(pilot, lambda: browser.loaded is not None, what="a pack opened")
        await pilot.pause()

    assert snap_compare(warm_app, terminal_size=size, run_before=open_packs)


@SIZES
def test_help(snap_compare, warm_app, size):
    async def open_help(pilot) -> None:
        await _ready(pilot)
        await pilot.press("f1")
        assert isinstance(pilot.app.screen, HelpScreen)
        await pilot.pause()

    assert snap_compare(warm_app, terminal_size=size, run_before=open_help)


@SIZES
def test_command_palette(snap_compare, warm_app, size):
    async def open_palette(pilot) -> None:
        await _ready(pilot)
        await pilot.press("ctrl+p", *"run")
        palette = pilot.app.screen
        assert isinstance(palette, CommandPalette)
        await wait_until(pilot, lambda: palette.query_one("CommandList").option_count >= 3,
                         what="the commands listed")  # fmt: skip
        await pilot.pause()

    assert snap_compare(warm_app, terminal_size=size, run_before=open_palette)


@SIZES
def test_an_error_notification(snap_compare, warm_app, size):
    async def refused_run(pilot) -> None:
        await _tab(pilot, "f3", "stages")
        pilot.app.screen.query_one("#field-txt2img-steps", Input).value = "999"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: pilot.app.screen.query("Toast"), what="the toast")
        await pilot.pause()

    assert snap_compare(warm_app, terminal_size=size, run_before=refused_run)
