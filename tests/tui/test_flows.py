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
from stablenew_tui.tui.widgets.queue_view import QueueView
from stablenew_tui.tui.widgets.results import ResultsTable
from stablenew_tui.tui.widgets.tab_bar import TabBar
from tests.tui.helpers import app_for, node_state, results_in_view, wait_until

MODEL = "dreamshaper_8.safetensors"


def _posted(sim, endpoint: str) -> list[dict]:
    return [r.body for r in sim.requests if r.method == "POST" and r.path.endswith("/" + endpoint)]


async def _type_template(pilot, text: str) -> None:
    area = pilot.app.screen.query_one("#template", TextArea)
    area.text = text
    await pilot.pause(0.4)  # the editor re-parses once typing settles


async def _run_with(pilot, prompt: str, fields: dict[str, str]) -> None:
    """Set stage-card fields (`#field-…` ids), type `prompt` and run it, as a user would."""
    await pilot.press("f3")
    for field_id, value in fields.items():
        pilot.app.screen.query_one(f"#field-{field_id}", Input).value = value
    await pilot.press("f2")
    await _type_template(pilot, prompt)
    await pilot.press("ctrl+r")


async def test_choose_run_see_and_rate(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        screen = app.screen
        await pilot.press("f3")
        model = screen.query_one("#field-txt2img-model", Select)
        await wait_until(pilot, lambda: len(model._options) > 2, what="catalog in dropdowns")
        title = next(value for _, value in model._options if str(value).startswith(MODEL))
        model.value = title
        screen.query_one("#field-txt2img-sampler", Select).value = "DPM++ 2M"
        screen.query_one("#field-txt2img-steps", Input).value = "3"
        screen.query_one("#field-txt2img-width", Input).value = "128"
        screen.query_one("#field-txt2img-height", Input).value = "128"
        await pilot.press("f2")
        await _type_template(pilot, "a lighthouse at dusk")
        await pilot.press("ctrl+r")
        table = await results_in_view(pilot, 1)

        (body,) = _posted(sim, "txt2img")
        assert body["sampler_name"] == "DPM++ 2M" and body["steps"] == 3
        assert body["prompt"] == "a lighthouse at dusk"
        assert {"sd_model_checkpoint": title} in _posted(sim, "options")
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
        await _type_template(pilot, "a {red|green|blue|gold} {cat|dog|fox|owl|bee|elk} {1|2|3|4}")
        segments = app.screen.query_one(SegmentTable)
        segments.focus()
        segments.move_cursor(row=0)
        await pilot.press("l")
        locked = app.services.draft.locks.locked[1]
        for runs in range(1, 6):
            await pilot.press("ctrl+r")
            await results_in_view(pilot, runs)
    prompts = [body["prompt"] for body in _posted(sim, "txt2img")]
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
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("f3")
        steps = app.screen.query_one("#field-txt2img-steps", Input)
        steps.value = "9999"
        await pilot.pause()
        assert steps.has_class("-invalid")
        await pilot.press("f2")
        await _type_template(pilot, "x")
        await pilot.press("ctrl+r")
        await pilot.pause(0.3)
        assert any("Steps" in n.message for n in app._notifications)
    assert _posted(sim, "txt2img") == []


async def test_template_error_is_a_notification_not_a_traceback(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await _type_template(pilot, "a {red|blue")
        await pilot.press("ctrl+r")
        await pilot.pause(0.2)
        assert any("{" in n.message or "expected" in n.message for n in app._notifications)
    assert _posted(sim, "txt2img") == []


async def test_help_and_keymap(sim):
    config = AppConfig(
        ui=UIConfig(image_preview="none", keymap={"tab_results": "f11", "bogus": "x"})
    )
    app = app_for(sim.url, config)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("f11")
        assert app.screen.active_tab == "results"
        assert "Results f11" in str(app.screen.query_one(TabBar).render())
        assert any("bogus" in n.message for n in app._notifications)
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
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("mine.toml" in m and "not a color" in m for m in messages)
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
    assert len(_posted(sim, "txt2img")) == count


async def test_rated_models_come_first_with_a_star(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("f3")
        screen = app.screen
        model = screen.query_one("#field-txt2img-model", Select)
        await wait_until(pilot, lambda: len(model._options) > 2, what="catalog in dropdowns")
        title = next(value for _, value in model._options if str(value).startswith(MODEL))
        model.value = title
        screen.query_one("#field-txt2img-steps", Input).value = "2"
        await pilot.press("f2")
        await _type_template(pilot, "a star")
        await pilot.press("ctrl+r")
        await results_in_view(pilot, 1)
        await pilot.press("5")

        def starred() -> bool:
            labels = [str(label) for label, _ in model._options]
            return any(label == f"★ {title} (1, 5.0)" for label in labels)

        await wait_until(pilot, starred, what="★ on the rated model")
        first_real = next(str(label) for label, value in model._options if value != Select.NULL)
        assert first_real == f"★ {title} (1, 5.0)"  # one image, rated 5


async def test_the_command_palette_offers_every_screen_action(sim):
    from stablenew_tui.tui.screens.main import MainScreen

    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(app.screen)}
    for binding in MainScreen.BINDINGS:
        assert binding.description in titles


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
        await pilot.press(*"a quick fox", "ctrl+r")  # no pause: the edit has not settled yet
        await results_in_view(pilot, 1)
    assert [body["prompt"] for body in _posted(sim, "txt2img")] == ["a quick fox"]


async def test_the_queue_view_follows_a_run(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await _run_with(pilot, "a queue", {"images-per-prompt": "3", "txt2img-steps": "2"})
        await pilot.press("f4")
        view = app.screen.query_one(QueueView)
        await wait_until(pilot, lambda: _statuses(view) == ["done"] * 3, what="three done rows")
        header, first = _screen_lines(view)[:2]
        assert header.split() == ["#", "status", "node", "prompt", "note"]
        assert first.split() == ["1", "✓", "done", "sim", "a", "queue"]


async def test_queue_keys_cancel_a_job_and_run_another_next(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("f8")  # paused: the run is queued but nothing starts
        await _run_with(pilot, "steered", {"images-per-prompt": "5", "txt2img-steps": "2"})
        await pilot.press("f4")
        view = app.screen.query_one(QueueView)
        await wait_until(pilot, lambda: _statuses(view) == ["queued"] * 5, what="five queued")
        await pilot.press("j", "j", "x")  # the third
        await wait_until(pilot, lambda: _statuses(view)[2] == "cancelled", what="cancelled")
        await pilot.press("end", "f")  # the fifth runs next
        assert view.selected_job_id == view.job_ids[4]
        run_id = app.screen._shown_run.id
        jobs = {job.index: job for job in app.services.launcher.queue.jobs(run_id)}
        await pilot.press("f8")
        await wait_until(pilot, lambda: _statuses(view).count("done") == 4, what="four done")
    seeds = [body["seed"] for body in _posted(sim, "txt2img")]
    assert jobs[2].seed not in seeds, "the cancelled job never ran"
    assert seeds[0] == jobs[4].seed, "the fifth ran first"


def _statuses(view: QueueView) -> list[str]:
    return [cells[1].split(" ", 1)[1] for cells in view.shown]


def _screen_lines(view: QueueView) -> list[str]:
    """The view's lines as drawn, header first."""
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


async def test_results_wait_out_of_view_and_the_cursor_stays_on_its_image(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await _run_with(pilot, "a first batch", {"images-per-prompt": "2", "txt2img-steps": "2"})
        table = app.screen.query_one(ResultsTable)
        await wait_until(pilot, lambda: len(table.results) == 2, what="two results kept")
        await pilot.pause(0.5)
        assert table.row_count == 0, "nothing is drawn while the Results tab is hidden"

        await results_in_view(pilot, 2)
        await pilot.press("j")  # the older of the two
        chosen = table.selected
        await _type_template(pilot, "a second batch")  # typed while the results stay in view
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: table.row_count == 4, what="the second batch drawn")
        assert table.selected == chosen
        assert table.get_row_at(0)[-1] == "a second batch", "newest first"
