"""What the TUI remembers for the next start: the settings of each run when it ends and of the
cards when the app quits; a typed seed, never one drawn at random."""

from __future__ import annotations

import tomllib

from textual.widgets import Input

from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.lastrun import LAST_RUN_NAME
from tests.tui.helpers import app_for, node_state, results_in_view, type_template, wait_until

SMALL = {"txt2img-steps": "2", "txt2img-width": "64", "txt2img-height": "64"}


def _last_run_path():
    return AppPaths.from_environment().data_dir / LAST_RUN_NAME


def _last_run() -> dict:
    return tomllib.loads(_last_run_path().read_text(encoding="utf-8"))


def _posted_seeds(sim) -> list[int]:
    return [r.body["seed"] for r in sim.requests if r.path.endswith("/txt2img")]


async def _set_fields(pilot, fields: dict[str, str]) -> None:
    await pilot.press("f3")
    for field_id, value in fields.items():
        pilot.app.screen.query_one(f"#field-{field_id}", Input).value = value
    await pilot.press("f2")


async def test_a_random_seed_is_used_but_never_remembered(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await _set_fields(pilot, SMALL)
        await type_template(pilot, "a {red|blue} fox")
        previewed = app.screen.next_seed
        await pilot.press("ctrl+r")
        await results_in_view(pilot, 1)
        await wait_until(pilot, _last_run_path().exists, what="the last run saved at its end")
        assert _posted_seeds(sim) == [previewed], "the image is made with the previewed seed"
        saved = _last_run()
        assert saved["settings"]["txt2img"]["seed"] == -1
        assert saved["settings"]["txt2img"]["steps"] == 2
        assert saved["prompt"]["text"] == "a {red|blue} fox"

        await pilot.press("ctrl+r")
        await results_in_view(pilot, 2)
    first, second = _posted_seeds(sim)
    assert first != second, "a second run draws a new seed"


async def test_a_typed_seed_is_remembered_and_prefills_the_next_start(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await _set_fields(pilot, {**SMALL, "txt2img-seed": "4242"})
        await type_template(pilot, "a fox")
        await pilot.press("ctrl+r")
        await results_in_view(pilot, 1)
        await wait_until(pilot, _last_run_path().exists, what="the last run saved at its end")
    assert _posted_seeds(sim) == [4242]
    assert _last_run()["settings"]["txt2img"]["seed"] == 4242

    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.screen.query_one("#field-txt2img-seed", Input).value == "4242"
        await pilot.pause()


async def test_quitting_saves_what_changed_after_the_last_run(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await _set_fields(pilot, SMALL)
        await type_template(pilot, "a fox")
        await pilot.press("ctrl+r")
        await results_in_view(pilot, 1)
        await wait_until(pilot, _last_run_path().exists, what="the last run saved at its end")
        await _set_fields(pilot, {"txt2img-steps": "11"})
        await type_template(pilot, "an owl at {dusk|dawn}")
        await pilot.press("ctrl+q")
    saved = _last_run()
    assert saved["settings"]["txt2img"]["steps"] == 11
    assert saved["settings"]["txt2img"]["seed"] == -1
    assert saved["prompt"]["text"] == "an owl at {dusk|dawn}"


async def test_quitting_with_an_invalid_card_keeps_the_settings_it_started_from(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await _set_fields(pilot, {"txt2img-steps": "9999"})
        await type_template(pilot, "a fox")
        await pilot.press("ctrl+q")
    saved = _last_run()
    assert saved["settings"]["txt2img"]["steps"] == 20
    assert saved["prompt"]["text"] == "a fox"
