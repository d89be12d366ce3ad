"""What a first-time user reads to find their way: the palette, the help screen, the pack
dialog's hint and the queue's node column."""

from __future__ import annotations

from textual.widgets import Label, Static

from stablenew_tui.config import AppConfig, NodeConfig, UIConfig
from stablenew_tui.paths import AppPaths
from stablenew_tui.tui.app import make_app
from stablenew_tui.tui.screens.help import HelpScreen
from stablenew_tui.tui.screens.pack_browser import PackBrowser
from stablenew_tui.tui.widgets.key_hints import KeyHints
from stablenew_tui.tui.widgets.queue_view import QueueView
from tests.tui.helpers import app_for, drawn_text, node_state, run_with, wait_until


async def test_the_palette_names_keys_as_people_write_them_and_only_our_actions(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        commands = {command.title: command.help for command in app.get_system_commands(app.screen)}
    assert not {"Keys", "Maximize", "Minimize"} & set(commands), "Textual's own panels"
    assert list(commands).count("Quit") == 1
    assert commands["Help"] == "main screen · F1"
    assert commands["Run"] == "main screen · ^R"
    assert commands["Re-roll all"] == "segments (Prompt tab) · R"
    assert not any("_" in help for help in commands.values()), commands


async def test_the_help_columns_line_up_across_sections_and_follow_the_keymap(sim):
    config = AppConfig(ui=UIConfig(image_preview="none", keymap={"run": "ctrl+enter"}))
    app = app_for(sim.url, config)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        sections = [drawn_text(static).splitlines() for static in app.screen.query(Static)]
        headers = [lines[1] for lines in sections if len(lines) > 1 and " key " in lines[1]]
        columns = {(header.index(" action"), header.index(" id ")) for header in headers}
        main_keys = [line.split()[0] for line in sections[0][2:] if line.strip()]
    assert len(headers) >= 6 and len(columns) == 1, headers
    assert main_keys[0] == "^Enter", "the run key as remapped"


async def test_the_pack_dialog_hint_stays_inside_the_dialog(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        key_line = app.screen.query_one(KeyHints).region
        await pilot.press("ctrl+o")
        browser = app.screen
        assert isinstance(browser, PackBrowser)
        await pilot.pause()
        hint = browser.query_one("#hint", Label)
        frame = hint.parent
        assert frame is not None and frame.region.contains_region(hint.region)
        assert not hint.region.overlaps(key_line), "the screen's key line stays readable"
        assert "^G: run whole pack" in str(hint.render())


async def test_the_queue_shows_a_node_named_by_its_address_in_full(sim):
    address = sim.url.removeprefix("http://")
    config = AppConfig(ui=UIConfig(image_preview="none"))
    app = make_app(config, AppPaths.from_environment(), [NodeConfig(name=address, url=sim.url)])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        small = {"txt2img-steps": "2", "txt2img-width": "64", "txt2img-height": "64"}
        await run_with(pilot, "a fox", small)
        await pilot.press("f4")
        view = app.screen.query_one(QueueView)
        await wait_until(pilot, lambda: "done" in drawn_text(view), what="the image done")
        assert f" {address} " in drawn_text(view)
