"""The preset chooser in the command palette: the next runs take the chosen classic preset."""

from __future__ import annotations

from stablenew_tui.config import AppConfig, PathsConfig, UIConfig
from stablenew_tui.tui.screens.preset_chooser import PresetChooser
from tests.conftest import TEST_DATA
from tests.tui.helpers import Notifications, app_for, posted, type_template, wait_until

PRESETS = TEST_DATA / "stablenew" / "presets"


def _config() -> AppConfig:
    return AppConfig(paths=PathsConfig(preset_folders=[PRESETS]),
                     ui=UIConfig(image_preview="unicode"))  # fmt: skip


async def test_a_preset_chosen_in_the_palette_sets_the_next_runs(sim):
    notes = Notifications()
    app = app_for(sim.url, _config())
    async with app.run_test(size=(120, 40), message_hook=notes.collect) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p", *"Load preset", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PresetChooser), what="chooser")
        await pilot.press("down", "down", "down", "enter")  # after "(no preset)", two others
        await wait_until(pilot, lambda: notes.any("preset portrait_close for the next runs"),
                         what="the preset taken")  # fmt: skip
        assert app.services.preset == "portrait_close"
        await type_template(pilot, "a lighthouse")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(posted(sim, "txt2img")) == 2, what="two images")
        bodies = posted(sim, "txt2img")
        assert {(b["steps"], b["cfg_scale"], b["sampler_name"]) for b in bodies} == {
            (31, 4.5, "Euler a")
        }
        assert bodies[0]["negative_prompt"] == "cropped, out of frame"


async def test_a_preset_s_inline_wildcards_reach_the_editor_and_no_preset_undoes_it(sim):
    notes = Notifications()
    app = app_for(sim.url, _config())
    async with app.run_test(size=(120, 40), message_hook=notes.collect) as pilot:
        await pilot.pause()
        draft = app.services.draft
        warnings = app.services.use_preset("randomization_example")
        assert any("api.base_url" in warning for warning in warnings)
        await type_template(pilot, "a __mood__ sky")
        preview = draft.preview(1)
        assert preview is not None and preview.text.split()[1] in (
            "happy", "sad", "angry", "contemplative", "serene",
        )  # fmt: skip
        await pilot.press("ctrl+p", *"Load preset", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PresetChooser), what="chooser")
        await pilot.press("home", "enter")  # "(no preset)"
        await wait_until(pilot, lambda: notes.any("no preset"), what="no preset taken")
        assert app.services.preset is None and draft.preview(1) is None
        assert "unknown wildcard '__mood__'" in str(draft.error)
