"""The TUI's main flows, driven with Pilot against the simulator over loopback HTTP."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Select, TextArea

from stablenew_tui.config import AppConfig, UIConfig
from stablenew_tui.paths import AppPaths
from stablenew_tui.sim import SimServer
from stablenew_tui.tui.screens.help import HelpScreen
from stablenew_tui.tui.widgets.prompt_editor import SegmentTable
from stablenew_tui.tui.widgets.tab_bar import TabBar
from tests.tui.helpers import (
    Notifications,
    app_for,
    node_state,
    option_labels,
    posted,
    results_in_view,
    type_template,
    wait_until,
)

MODEL = "dreamshaper_8.safetensors"


async def _model_title(app) -> str:
    """The node's full title of MODEL (with its hash): the value the dropdown sends."""
    catalog = await app.services.catalog()
    return next(title for title in catalog.models if title.startswith(MODEL))


async def test_choose_run_see_and_rate(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        screen = app.screen
        await pilot.press("f3")
        model = screen.query_one("#field-txt2img-model", Select)
        await wait_until(pilot, lambda: len(option_labels(model)) > 2, what="catalog listed")
        title = await _model_title(app)
        assert MODEL.removesuffix(".safetensors") in option_labels(model), "listed by name"
        model.value = title
        screen.query_one("#field-txt2img-sampler", Select).value = "DPM++ 2M"
        screen.query_one("#field-txt2img-steps", Input).value = "3"
        screen.query_one("#field-txt2img-width", Input).value = "128"
        screen.query_one("#field-txt2img-height", Input).value = "128"
        await pilot.press("f2")
        await type_template(pilot, "a lighthouse at dusk")
        await pilot.press("ctrl+r")
        table = await results_in_view(pilot, 1)

        (body,) = posted(sim, "txt2img")
        assert body["sampler_name"] == "DPM++ 2M" and body["steps"] == 3
        assert body["prompt"] == "a lighthouse at dusk"
        assert body["override_settings"]["sd_model_checkpoint"] == title
        assert app.focused is table
        await pilot.press("4")
        row = table.selected
        assert row is not None and row.rating == 4
    ratings = AppPaths.from_environment().data_dir / "ratings.jsonl"
    (line,) = [json.loads(text) for text in ratings.read_text().splitlines()]
    assert line["rating"] == 4 and line["path"] == row.path and line["job_id"]


async def test_a_locked_segment_keeps_its_value_over_five_runs(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("f3")
        app.screen.query_one("#field-txt2img-steps", Input).value = "2"
        app.screen.query_one("#field-txt2img-width", Input).value = "64"
        app.screen.query_one("#field-txt2img-height", Input).value = "64"
        await pilot.press("f2")
        await type_template(pilot, "a {red|green|blue|gold} {cat|dog|fox|owl|bee|elk} {1|2|3|4}")
        segments = app.screen.query_one(SegmentTable)
        segments.focus()
        segments.move_cursor(row=0)
        await pilot.press("l")
        locked = app.services.draft.locks.locked[1]
        for runs in range(1, 6):
            await pilot.press("ctrl+r")
            await results_in_view(pilot, runs)
    prompts = [body["prompt"] for body in posted(sim, "txt2img")]
    assert len(prompts) == 5
    assert all(prompt.startswith(f"a {locked} ") for prompt in prompts)
    assert len({prompt.split(" ", 2)[2] for prompt in prompts}) > 1, "the others vary"


async def test_disconnected_at_start_then_ready_when_the_server_comes():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = app_for(f"http://127.0.0.1:{port}")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "DISCONNECTED", what="DISCONNECTED")
        await pilot.press("f3")  # still usable with no server
        assert app.screen.active_tab == "stages"
        async with SimServer(speed=0, port=port):
            await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")


async def test_warm_start_prefills_cards_and_prompt(sim, stablenew_home):
    from stablenew_tui.pipeline.lastrun import save_last_run
    from stablenew_tui.pipeline.settings import merge_settings

    settings = merge_settings(
        ("t", {"stages": ["txt2img", "upscale"], "txt2img": {"steps": 33, "seed": 77}})
    )
    save_last_run(AppPaths.from_environment().data_dir / "last_run.toml", settings,
                  "a {warm|cold} start", "blurry")  # fmt: skip
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert screen.query_one("#template", TextArea).text == "a {warm|cold} start"
        assert screen.query_one("#negative", Input).value == "blurry"
        assert screen.query_one("#field-txt2img-steps", Input).value == "33"
        assert screen.query_one("#field-stages-upscale", Checkbox).value is True
        assert screen.query_one("#field-stages-img2img", Checkbox).value is False
        await pilot.pause()


async def test_invalid_input_is_flagged_and_the_run_refused(sim):
    app = app_for(sim.url)
    notes = Notifications()
    async with app.run_test(size=(120, 40), message_hook=notes.collect) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("f3")
        steps = app.screen.query_one("#field-txt2img-steps", Input)
        steps.value = "9999"
        await wait_until(pilot, lambda: steps.has_class("-invalid"), what="steps flagged")
        await pilot.press("f2")
        await type_template(pilot, "x")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: notes.any("Steps"), what="the refusal")
    assert posted(sim, "txt2img") == []


async def test_template_error_is_a_notification_not_a_traceback(sim):
    app = app_for(sim.url)
    notes = Notifications()
    async with app.run_test(size=(120, 40), message_hook=notes.collect) as pilot:
        area = app.screen.query_one("#template", TextArea)
        area.text = "a {red|blue"
        draft = app.services.draft
        await wait_until(pilot, lambda: draft.error is not None, what="the parse error")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: notes.any("expected"), what="the error shown")
    assert posted(sim, "txt2img") == []


async def test_help_and_keymap(sim):
    config = AppConfig(
        ui=UIConfig(image_preview="none", keymap={"tab_results": "f11", "bogus": "x"})
    )
    app = app_for(sim.url, config)
    notes = Notifications()
    async with app.run_test(size=(80, 24), message_hook=notes.collect) as pilot:
        await pilot.press("f11")
        assert app.screen.active_tab == "results"
        assert "Results F11" in str(app.screen.query_one(TabBar).render())
        assert notes.any("bogus")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_a_broken_theme_file_falls_back_with_a_notice(sim, stablenew_home):
    themes = AppPaths.from_environment().user_themes_dir
    themes.mkdir(parents=True)
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "not-a-colour"\n')
    config = AppConfig(ui=UIConfig(theme="mine", image_preview="none"))
    app = app_for(sim.url, config)
    notes = Notifications()
    async with app.run_test(size=(80, 24), message_hook=notes.collect) as pilot:
        await pilot.pause()
        assert any("mine.toml" in m and "not a color" in m for m in notes.messages)
        assert app.theme == "stablenew-dark"


@pytest.mark.parametrize("theme", ["stablenew-dark", "stablenew-light", "stablenew-high-contrast"])
async def test_bundled_themes_load(sim, theme):
    app = app_for(sim.url, AppConfig(ui=UIConfig(theme=theme, image_preview="none")))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == theme


def test_screen_keys_do_not_collide_with_the_editors_own():
    """A screen key that the template editor or an input also uses would never fire there."""
    from textual.widgets import Input, TextArea

    from stablenew_tui.tui.screens.main import MainScreen

    editor_keys = {
        key for widget in (TextArea, Input) for binding in widget.BINDINGS
        for key in binding.key.split(",")
    }  # fmt: skip
    for binding in MainScreen.BINDINGS:
        for key in binding.key.split(","):
            assert key not in editor_keys, f"{key} ({binding.id}) is taken by the editor"


async def test_pack_browser_loads_a_prompt_and_runs_the_pack(sim):
    from stablenew_tui.tui.screens.pack_browser import PackBrowser

    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, PackBrowser)
        browser = app.screen
        names = [browser.query_one("#packs").get_option_at_index(n).prompt
                 for n in range(browser.query_one("#packs").option_count)]  # fmt: skip
        await pilot.press(*["down"] * names.index("creatures"), "enter")
        await wait_until(pilot, lambda: browser.loaded is not None, what="pack loaded")
        first = browser.loaded.prompts[0]
        await pilot.press("enter")  # the first prompt of the pack
        await wait_until(pilot, lambda: not isinstance(app.screen, PackBrowser), what="closed")
        assert app.screen.query_one("#template", TextArea).text == first.prompt
        await pilot.press("ctrl+g")
        count = len(browser.loaded.prompts)
        await results_in_view(pilot, count)
    assert len(posted(sim, "txt2img")) == count


async def test_rated_models_come_first_with_a_star(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("f3")
        screen = app.screen
        model = screen.query_one("#field-txt2img-model", Select)
        await wait_until(pilot, lambda: len(option_labels(model)) > 2, what="catalog listed")
        model.value = await _model_title(app)
        screen.query_one("#field-txt2img-steps", Input).value = "2"
        await pilot.press("f2")
        await type_template(pilot, "a star")
        await pilot.press("ctrl+r")
        await results_in_view(pilot, 1)
        await pilot.press("5")

        shown = MODEL.removesuffix(".safetensors")  # the dropdown leaves the extension out

        def starred() -> bool:
            return f"★ {shown} (1, 5.0)" in option_labels(model)

        await wait_until(pilot, starred, what="★ on the rated model")
        blank, first_real = option_labels(model)[:2]
        assert (blank, first_real) == ("as loaded", f"★ {shown} (1, 5.0)")  # one image, rated 5


async def test_the_command_palette_offers_every_action_bound_to_a_key(sim):
    from textual.screen import Screen

    from stablenew_tui.tui.app import key_sections
    from stablenew_tui.tui.keys import palette_bindings

    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        sections = [  # a screen's keys work there only: those of the screen in view
            s for s in key_sections()
            if not issubclass(s.owner, Screen) or isinstance(app.screen, s.owner)
        ]  # fmt: skip
        expected = {b.description for keys in sections for b in palette_bindings(keys)}
        assert expected <= set(commands)
        assert {"Lock all", "Requeue failed", "Rate", "Run", "Help"} <= expected
        assert "Down" not in commands, "cursor movement is no command"
        await pilot.press("ctrl+p", *"Re-roll all", "enter")  # a segment key, from anywhere
        draft = app.services.draft
        await wait_until(pilot, lambda: draft.prompt_seed is not None, what="re-rolled")


def test_every_binding_has_an_id_and_the_ids_are_unique():
    from stablenew_tui.tui.app import key_sections

    sections = key_sections()
    ids = [binding.id for keys in sections for binding in keys.bindings]
    assert all(ids) and len(ids) == len(set(ids))
    assert {"segments.down", "results.up", "packs.close", "help.close"} <= set(ids)


async def test_earlier_results_and_ratings_load_at_start(sim):
    from stablenew_tui.learning.ratings import RatingStore
    from stablenew_tui.pipeline.launch import RunRequest
    from tests.integration.pipeline_helpers import launcher_for, run_to_end

    flags = {"images_per_prompt": 2, "txt2img": {"steps": 2, "width": 64, "height": 64}}
    launcher = launcher_for(sim.url)
    try:
        prepared, _, _ = await run_to_end(launcher, RunRequest(prompt="earlier", flags=flags))
    finally:
        await launcher.aclose()
    first = prepared.jobs[0]
    data_dir = AppPaths.from_environment().data_dir
    rated_path = next(iter((Path(prepared.run.folder) / "txt2img").glob("00001_*.png")))
    RatingStore(data_dir / "ratings.jsonl").rate(str(rated_path), 5, job_id=first.id)

    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await results_in_view(pilot, 2)
        assert table.results[str(rated_path)].rating == 5
        assert {row.prompt for row in table.results.values()} == {"earlier"}


async def test_ctrl_r_right_after_typing_runs_what_was_typed(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        # `e` puts the keyboard in the template; no pause: the edit has not settled yet.
        await pilot.press("e", *"a quick fox", "ctrl+r")
        await results_in_view(pilot, 1)
    assert [body["prompt"] for body in posted(sim, "txt2img")] == ["a quick fox"]
