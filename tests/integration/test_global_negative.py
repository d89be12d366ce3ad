"""The global negative per stage, as the classic StableNew's switches ask: what the simulator
received at each stage, and what the manifest records of it."""

from __future__ import annotations

import json

from stablenew_tui.config import AppConfig, NodeConfig, PathsConfig, PromptsConfig
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import RunLauncher, RunRequest
from tests.conftest import TEST_DATA
from tests.integration.pipeline_helpers import posted, run_to_end

PRESETS = TEST_DATA / "stablenew" / "presets"
SMALL = {"txt2img": {"width": 64, "height": 64, "steps": 2}}
GLOBAL = "nsfw, watermark"


async def _run(sim, preset: str, prompt: str = "a portrait"):
    config = AppConfig(paths=PathsConfig(preset_folders=[PRESETS]),
                       prompts=PromptsConfig(global_negative=GLOBAL))  # fmt: skip
    launcher = RunLauncher(config, AppPaths.from_environment(), [NodeConfig(url=sim.url)])
    try:
        prepared, _, _ = await run_to_end(launcher, RunRequest(prompt=prompt, preset=preset,
                                                                flags=SMALL))  # fmt: skip
    finally:
        await launcher.aclose()
    return prepared


def _detail_request(sim) -> dict:
    (body,) = [body for body in posted(sim, "img2img") if "alwayson_scripts" in body]
    return body


def _regions(body: dict) -> dict:
    return body["alwayson_scripts"]["ADetailer"]["args"][2]


async def test_adetailer_leaves_the_global_negative_out_when_its_switch_is_off(sim):
    await _run(sim, str(PRESETS / "adetailer_faces.json"))
    assert posted(sim, "txt2img")[0]["negative_prompt"] == f"blurry, {GLOBAL}"
    detail = _detail_request(sim)
    assert detail["negative_prompt"] == "blurry", "pipeline.apply_global_negative_adetailer"
    assert "ad_negative_prompt" not in _regions(detail), "the regions keep the image's own"


async def test_adetailer_takes_the_global_negative_when_its_switch_is_on(sim, tmp_path):
    preset = json.loads((PRESETS / "adetailer_faces.json").read_text())
    preset["pipeline"]["apply_global_negative_adetailer"] = True
    preset["adetailer"]["adetailer_negative_prompt"] = "crossed eyes"
    (tmp_path / "faces_on.json").write_text(json.dumps(preset, indent=2))
    await _run(sim, str(tmp_path / "faces_on.json"))
    detail = _detail_request(sim)
    assert detail["negative_prompt"] == f"blurry, {GLOBAL}"
    assert _regions(detail)["ad_negative_prompt"] == f"crossed eyes, {GLOBAL}"
