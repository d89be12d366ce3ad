"""A classic StableNew packs folder in the TUI: the pack runs by its name with its sidecar's
settings, over a preset chosen in the palette, as on the command line."""

from __future__ import annotations

from stablenew_tui.config import AppConfig, PathsConfig, PromptsConfig, UIConfig
from stablenew_tui.tui.screens.pack_browser import PackBrowser
from tests.conftest import TEST_DATA
from tests.tui.helpers import Notifications, app_for, posted, results_in_view, wait_until

CLASSIC = TEST_DATA / "stablenew"


async def test_a_classic_pack_runs_with_its_sidecar_over_the_chosen_preset(sim):
    config = AppConfig(
        paths=PathsConfig(pack_folders=[CLASSIC / "packs"], preset_folders=[CLASSIC / "presets"]),
        prompts=PromptsConfig(global_negative="nsfw"), ui=UIConfig(image_preview="unicode"),
    )  # fmt: skip
    notes = Notifications()
    app = app_for(sim.url, config)
    async with app.run_test(size=(120, 40), message_hook=notes.collect) as pilot:
        app.services.use_preset("portrait_close")
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, PackBrowser)
        browser = app.screen
        packs = browser.query_one("#packs")
        names = [str(packs.get_option_at_index(n).prompt) for n in range(packs.option_count)]
        assert "Aldric.json" not in names and "Aldric" in names, "a sidecar is no pack"
        await pilot.press(*["down"] * names.index("Aldric"), "enter")
        await wait_until(pilot, lambda: browser.loaded is not None, what="pack loaded")
        await pilot.press("ctrl+g")
        await results_in_view(pilot, 2)
        assert notes.any("Aldric.json:64: api.base_url: not used"), "named, never dropped"
    bodies = posted(sim, "txt2img")
    assert [(b["steps"], b["cfg_scale"], b["sampler_name"], b["scheduler"], b["seed"])
            for b in bodies] == [(28, 6.5, "DPM++ 2M", "Karras", 4242),
                                 (28, 6.5, "DPM++ 2M", "Karras", 4243)]  # fmt: skip
    assert bodies[1]["negative_prompt"] == "blurry, lowres, nsfw"
    assert bodies[0]["override_settings"]["sd_vae"] == "vae-ft-mse-840000-ema-pruned.safetensors"
    assert [b["negative_prompt"] for b in posted(sim, "img2img")] == [
        "<embedding:sn_bad_hands-neg> <embedding:sn_plastic-neg>, extra fingers, waxy skin, "
        "blurry, lowres",
        "blurry, lowres",
    ], "the sidecar's apply_global_negative_img2img is false"
