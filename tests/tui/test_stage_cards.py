"""The Stages tab as a first-time user meets it: tabbing through, "auto" fields, refusals that
say where, dropdowns, switches and the cards below the fold at 80×24."""

from __future__ import annotations

from textual.widgets import Checkbox, Input, Select

from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.lastrun import save_last_run
from stablenew_tui.pipeline.settings import merge_settings
from stablenew_tui.tui.widgets.stage_cards import StageCards
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


def _warm_start(settings: dict) -> None:
    data_dir = AppPaths.from_environment().data_dir
    save_last_run(data_dir / "last_run.toml", merge_settings(("t", settings)), "", "")


async def test_tabbing_through_the_cards_flags_nothing_and_auto_can_be_given_back(sim):
    _warm_start({"txt2img": {"clip_skip": 2, "steps": 2, "width": 64, "height": 64}})
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("f3")
        inputs = list(app.screen.query_one(StageCards).query(Input))
        for _ in inputs:  # every input gains and loses the keyboard
            await pilot.press("tab")
        await pilot.press("f2")
        assert [i.id for i in inputs if i.has_class("-invalid")] == []

        clip_skip = app.screen.query_one("#field-txt2img-clip-skip", Input)
        assert clip_skip.value == "2"
        clip_skip.value = ""  # emptied: back to auto
        await pilot.press("f2")
        assert not clip_skip.has_class("-invalid")
        await type_template(pilot, "an auto fox")
        await pilot.press("ctrl+r")
        await results_in_view(pilot, 1)
    (body,) = posted(sim, "txt2img")
    assert "CLIP_stop_at_last_layers" not in body.get("override_settings", {}), body


async def test_a_refusal_names_the_card_and_what_the_field_takes(sim):
    app = app_for(sim.url)
    notes = Notifications()
    async with app.run_test(size=(80, 24), message_hook=notes.collect) as pilot:
        await pilot.press("f3")
        app.screen.query_one("#field-img2img-steps", Input).value = "999"
        app.screen.query_one("#field-txt2img-cfg-scale", Input).value = "0"
        await type_template(pilot, "a fox")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: notes.any("fix these first"), what="the refusal")
    (refusal,) = [message for message in notes.messages if "fix these first" in message]
    assert refusal == (
        "fix these first: txt2img CFG (1–30); img2img Steps (1–150, or empty for auto)"
    )
    assert posted(sim, "txt2img") == []


async def test_dropdown_names_fit_on_one_line_at_80x24(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("f3")
        model = app.screen.query_one("#field-txt2img-model", Select)
        await wait_until(pilot, lambda: len(option_labels(model)) > 2, what="catalog listed")
        model.focus()
        await pilot.press("enter")
        overlay = model.query_one("SelectOverlay")
        await wait_until(pilot, lambda: overlay.region.height > 0, what="the list open")
        labels = option_labels(model)
        assert "dreamshaper_8" in labels, "names without their hash and file extension"
        assert overlay.virtual_size.height == len(labels), "one line per model"


async def test_switches_read_on_or_off_without_colour(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        upscale = app.screen.query_one("#field-stages-upscale", Checkbox)
        assert str(upscale.render()).strip() == "▐ ▌ off"
        upscale.focus()
        await pilot.press("space")
        assert upscale.value is True
        assert str(upscale.render()).strip() == "▐✓▌ on"


async def test_cards_below_the_fold_have_a_scrollbar_that_shows(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        cards = app.screen.query_one(StageCards)
        video = app.screen.query_one("#card-video")
        assert video.region.bottom > cards.region.bottom, "the video card is below the fold"
        assert cards.show_vertical_scrollbar and cards.scrollbar_size_vertical >= 1
        _, background = cards.background_colors
        track, thumb = cards.styles.scrollbar_background, cards.styles.scrollbar_color
        assert track != background, "the track stands out from the cards"
        assert abs(thumb.brightness - track.brightness) >= 0.4, "the thumb stands out clearly"
