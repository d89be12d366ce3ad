"""The preset chooser in the command palette: the next runs take the chosen classic preset, and
the stage cards show its values."""

from __future__ import annotations

from textual.widgets import Input, Select

from stablenew_tui.config import AppConfig, PathsConfig, UIConfig
from stablenew_tui.tui.screens.preset_chooser import PresetChooser
from stablenew_tui.tui.widgets.stage_cards import StageCards
from tests.conftest import TEST_DATA
from tests.tui.helpers import (
    Notifications,
    app_for,
    option_labels,
    posted,
    type_template,
    wait_until,
)

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


def _card_values(app) -> dict:
    cards = app.screen.query_one(StageCards)
    values = cards.values()
    txt2img = values["txt2img"]
    return {
        "shown": (txt2img["steps"], txt2img["cfg_scale"], txt2img["sampler"],
                  txt2img["scheduler"], txt2img["width"], txt2img["height"], txt2img["seed"],
                  txt2img["clip_skip"], txt2img["model"], txt2img.get("vae")),
        "images": values["images_per_prompt"],
        "stages": values["stages"],
        "upscale": values["upscale"]["scale"],
        "changed": cards.changed(),
    }  # fmt: skip


async def test_the_cards_show_a_chosen_preset_s_values_and_no_preset_takes_them_back(sim):
    notes = Notifications()
    app = app_for(sim.url, _config())
    async with app.run_test(size=(120, 40), message_hook=notes.collect) as pilot:
        model = app.screen.query_one("#field-txt2img-model", Select)
        await wait_until(pilot, lambda: len(option_labels(model)) > 2, what="the node's models")
        before = _card_values(app)
        app.screen.query_one("#field-img2img-steps", Input).value = "9"  # the user's own
        await pilot.press("ctrl+p", *"Load preset", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PresetChooser), what="chooser")
        await pilot.press("down", "down", "down", "enter")
        await wait_until(pilot, lambda: notes.any("preset portrait_close"), what="the preset")
        shown = _card_values(app)
        # As the node's lists spell them, so no dropdown offers one choice twice.
        assert shown["shown"] == (31, 4.5, "Euler a", "normal", 768, 1024, 77, 1,
                                  "dreamshaper_8.safetensors [5884977163]",
                                  "vae-ft-mse-840000-ema-pruned.safetensors")  # fmt: skip
        assert option_labels(model).count("dreamshaper_8") == 1
        assert (shown["images"], shown["stages"], shown["upscale"]) == (
            2, ["txt2img", "upscale"], 2.0,
        )  # fmt: skip
        # The preset's values are its layer, not the user's: a pack's settings still beat them.
        assert shown["changed"] == {"img2img": {"steps": 9}}

        await pilot.press("ctrl+p", *"Load preset", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PresetChooser), what="chooser")
        await pilot.press("home", "enter")
        await wait_until(pilot, lambda: notes.any("no preset"), what="no preset taken")
        after = _card_values(app)
        assert after["shown"] == before["shown"] and after["stages"] == before["stages"]
        assert after["changed"] == {"img2img": {"steps": 9}}, "the user's own change stays"
