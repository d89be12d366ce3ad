"""The global negative per stage, as the classic StableNew's switches ask: what the simulator
received at each stage, what the manifest and the records keep of it, and what an image's
details show."""

from __future__ import annotations

import json
from pathlib import Path

from stablenew_tui.config import AppConfig, NodeConfig, PathsConfig, PromptsConfig
from stablenew_tui.learning.records import read_records
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import RunLauncher, RunRequest
from stablenew_tui.pipeline.refine import RefineRequest
from stablenew_tui.services.details import GLOBAL_NEGATIVE, image_details
from tests.conftest import TEST_DATA
from tests.integration.pipeline_helpers import manifest, posted, run_to_end
from tests.integration.test_summary import summary_rows

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


async def test_each_stage_records_whether_it_appended_the_global_negative(sim):
    config = AppConfig(prompts=PromptsConfig(global_negative=GLOBAL))
    launcher = RunLauncher(config, AppPaths.from_environment(), [NodeConfig(url=sim.url)])
    flags = {**SMALL, "stages": ["txt2img", "img2img", "adetailer", "upscale"],
             "img2img": {"apply_global_negative": False}}  # fmt: skip
    try:
        prepared, _, _ = await run_to_end(launcher, RunRequest(prompt="a fox", negative="fog",
                                                                flags=flags))  # fmt: skip
    finally:
        await launcher.aclose()
    lines = {line["stage"]: line for line in manifest(prepared.run.folder)}
    applied = {stage: line["global_negative_applied"] for stage, line in lines.items()}
    # An upscale by extras sends no prompt at all.
    assert applied == {"txt2img": True, "img2img": False, "adetailer": True, "upscale": False}
    assert {line["negative"] for line in lines.values()} == {"fog"}, "the prompt's own"
    assert {line["global_negative"] for line in lines.values()} == {GLOBAL}
    (row,) = summary_rows(prepared.run.folder)
    assert (row["negative"], row["global_negative"]) == ("fog", GLOBAL)
    records = read_records(AppPaths.from_environment().data_dir / "records.jsonl").records
    assert {r["stage"]: r["inputs"]["global_negative_applied"] for r in records} == applied

    final = Path(prepared.run.folder) / lines["upscale"]["path"]
    rows = {section.title: dict(section.rows) for section in image_details(str(final)).sections}
    assert rows["prompt"]["negative"] == "fog"
    assert rows["prompt"][GLOBAL_NEGATIVE] == f"{GLOBAL} · appended at txt2img, adetailer"
    txt2img, img2img = rows["txt2img: every setting sent"], rows["img2img: every setting sent"]
    assert (txt2img["negative sent"], txt2img[GLOBAL_NEGATIVE]) == (f"fog, {GLOBAL}", "appended")
    assert (img2img["negative sent"], img2img[GLOBAL_NEGATIVE]) == (
        "fog", "not appended: this stage's switch is off",
    )  # fmt: skip
    assert GLOBAL_NEGATIVE not in rows["upscale: every setting sent"], "extras: no negative"


async def test_without_a_global_negative_the_details_say_nothing_of_it(sim):
    launcher = RunLauncher(AppConfig(), AppPaths.from_environment(), [NodeConfig(url=sim.url)])
    try:
        prepared, _, _ = await run_to_end(launcher, RunRequest(prompt="a fox", flags=SMALL))
    finally:
        await launcher.aclose()
    (line,) = manifest(prepared.run.folder)
    assert "global_negative_applied" not in line and "global_negative" not in line
    details = image_details(str(Path(prepared.run.folder) / line["path"]))
    assert all(label != GLOBAL_NEGATIVE for s in details.sections for label, _ in s.rows)


async def test_a_refined_image_takes_the_global_negative_of_now(sim):
    config = AppConfig(prompts=PromptsConfig(global_negative=GLOBAL))
    launcher = RunLauncher(config, AppPaths.from_environment(), [NodeConfig(url=sim.url)])
    try:
        prepared, _, _ = await run_to_end(launcher, RunRequest(prompt="a fox", negative="fog",
                                                                flags=SMALL))  # fmt: skip
        (line,) = manifest(prepared.run.folder)
        image = str(Path(prepared.run.folder) / line["path"])
        refined = await launcher.prepare_refine(RefineRequest([image], ["img2img"], flags=SMALL))
        await launcher.engine.run(refined.run)
    finally:
        await launcher.aclose()
    (body,) = posted(sim, "img2img")
    assert body["negative_prompt"] == f"fog, {GLOBAL}", "its own negative, then the global one"
    (refined_line,) = manifest(refined.run.folder)
    assert (refined_line["negative"], refined_line["global_negative_applied"]) == ("fog", True)
