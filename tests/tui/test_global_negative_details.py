"""The run's global negative in an image's details view: its own line, in its own style, apart
from the prompt's negative, with the stages that appended it."""

from __future__ import annotations

from textual.widgets import Static

from stablenew_tui.config import AppConfig, PromptsConfig, UIConfig
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.tui.screens.details import DetailsScreen
from tests.integration.pipeline_helpers import launcher_for, run_to_end
from tests.tui.helpers import app_for, drawn_text, results_in_view, wait_until

GLOBAL = "nsfw, watermark"


async def test_the_details_show_the_global_negative_apart_from_the_prompt_s(sim):
    config = AppConfig(prompts=PromptsConfig(global_negative=GLOBAL),
                       ui=UIConfig(image_preview="unicode"))  # fmt: skip
    flags = {"stages": ["txt2img", "img2img"], "img2img": {"apply_global_negative": False},
             "txt2img": {"steps": 2, "width": 64, "height": 64}}  # fmt: skip
    launcher = launcher_for(sim.url, config=config)
    try:
        await run_to_end(launcher, RunRequest(prompt="a fox", negative="fog", flags=flags))
    finally:
        await launcher.aclose()
    app = app_for(sim.url, config)
    async with app.run_test(size=(120, 40)) as pilot:
        await results_in_view(pilot, 1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailsScreen), what="details")
        await pilot.pause()
        prompt_section = next(iter(app.screen.query(".section").results(Static)))
        lines = drawn_text(prompt_section).splitlines()
        negative = next(line for line in lines if line.lstrip().startswith("negative"))
        assert negative.split()[1:] == ["fog"], "the prompt's own negative alone"
        (shown,) = [y for y, line in enumerate(lines) if "global negative" in line]
        assert f"{GLOBAL} · appended at txt2img" in lines[shown]
        styles = [seg.style for seg in prompt_section.render_line(shown) if "nsfw" in seg.text]
        assert styles and all(style is not None and style.italic for style in styles)
