"""The Stages tab's model multi-select and ADetailer card, driven with Pilot against the
simulator over loopback HTTP."""

from __future__ import annotations

from textual.widgets import Checkbox, Input, Select, SelectionList

from stablenew_tui.sim import SimServer
from tests.tui.helpers import (
    app_for,
    drawn_text,
    node_state,
    option_labels,
    posted,
    results_in_view,
    type_template,
    wait_until,
)

DREAMSHAPER = "dreamshaper_8.safetensors"
SD15 = "v1-5-pruned-emaonly.safetensors"


async def _stages_with_catalog(pilot) -> None:
    await wait_until(pilot, lambda: node_state(pilot.app) == "READY", what="READY")
    await pilot.press("f3")
    model = pilot.app.screen.query_one("#field-txt2img-model", Select)
    await wait_until(pilot, lambda: len(option_labels(model)) > 2, what="catalog listed")


async def _tick(pilot, more: SelectionList, name: str) -> str:
    """Highlight the entry for `name` and press space, as a user would; returns its value."""
    values = [more.get_option_at_index(n).value for n in range(more.option_count)]
    index = next(n for n, value in enumerate(values) if value.startswith(name))
    more.focus()
    more.highlighted = index
    await pilot.press("space")
    return values[index]


async def test_ticking_two_models_makes_the_image_on_each(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await _stages_with_catalog(pilot)
        screen = app.screen
        more = screen.query_one("#field-txt2img-model-picker SelectionList", SelectionList)
        first = await _tick(pilot, more, DREAMSHAPER)
        second = await _tick(pilot, more, SD15)
        for field, value in (("steps", "2"), ("width", "64"), ("height", "64")):
            screen.query_one(f"#field-txt2img-{field}", Input).value = value
        await pilot.press("f2")
        await type_template(pilot, "a lighthouse")
        await pilot.press("ctrl+r")
        await results_in_view(pilot, 2)
    models = [body["override_settings"]["sd_model_checkpoint"] for body in posted(sim, "txt2img")]
    assert models == [first, second]
    assert len({body["seed"] for body in posted(sim, "txt2img")}) == 1, "one image, two models"


async def test_the_adetailer_card_runs_its_stage_where_the_node_has_the_extension(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await _stages_with_catalog(pilot)
        screen = app.screen
        switch = screen.query_one("#field-stages-adetailer", Checkbox)
        assert not switch.disabled
        switch.value = True
        screen.query_one("#field-adetailer-denoise", Input).value = "0.35"
        screen.query_one("#field-adetailer-prompt", Input).value = "a calm face"
        for field, value in (("steps", "2"), ("width", "64"), ("height", "64")):
            screen.query_one(f"#field-txt2img-{field}", Input).value = value
        await pilot.press("f2")
        await type_template(pilot, "a knight")
        await pilot.press("ctrl+r")
        await results_in_view(pilot, 1)
    (body,) = posted(sim, "img2img")
    detail = body["alwayson_scripts"]["ADetailer"]["args"][2]
    assert detail["ad_denoising_strength"] == 0.35 and detail["ad_prompt"] == "a calm face"


async def test_the_adetailer_card_is_off_where_the_node_lacks_the_extension():
    async with SimServer(flavor="a1111-1.8", speed=0) as old:
        app = app_for(old.url)
        async with app.run_test(size=(120, 40)) as pilot:
            await _stages_with_catalog(pilot)
            switch = app.screen.query_one("#field-stages-adetailer", Checkbox)
            await wait_until(pilot, lambda: switch.disabled, what="the switch disabled")
            assert switch.value is False
            card = app.screen.query_one("#card-adetailer")
            assert card.border_title == "adetailer: not on this node"


async def test_the_also_on_models_read_ticked_or_not_without_colour(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await _stages_with_catalog(pilot)
        more = app.screen.query_one("#field-txt2img-model-picker SelectionList", SelectionList)
        boxes = [line[:3] for line in drawn_text(more).splitlines()]
        assert boxes == ["▐ ▌"] * len(boxes), "none ticked, and none looks it"
        await _tick(pilot, more, SD15)
        await pilot.pause()
        ticked = [line for line in drawn_text(more).splitlines() if line.startswith("▐✓▌")]
        assert len(ticked) == 1 and "v1-5-pruned" in ticked[0]
