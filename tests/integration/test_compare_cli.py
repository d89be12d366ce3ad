"""`stablenew compare` end to end on the simulator: the requests sent, the sheet written."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from stablenew_tui.pipeline.compare_grid import ComparisonGrid
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import launcher_for, posted, run_to_end
from tests.integration.test_run_cli import stablenew, stablenew_async


async def test_a_three_axis_comparison_makes_every_cell_and_one_sheet_per_value(tmp_path):
    async with SimServer(speed=0) as sim:
        process = await stablenew_async(
            "compare", "--node", sim.url, "--prompt", "a {fox|hare}", "--seed", "9",
            "--steps", "2", "--size", "64x64", "--out", str(tmp_path), "--json",
            "--axis", "sampler=Euler a,DPM++ 2M", "--axis", "cfg=5,7",
            "--axis", "model=dreamshaper_8,v1-5-pruned-emaonly",
        )  # fmt: skip
        stdout, stderr = await process.communicate()
        bodies = posted(sim, "txt2img")
    assert process.returncode == 0, stderr.decode()
    made = [
        (body["override_settings"]["sd_model_checkpoint"], body["cfg_scale"],
         body["sampler_name"], body["seed"], body["prompt"])
        for body in bodies
    ]  # fmt: skip
    prompt = made[0][4]
    assert prompt in ("a fox", "a hare")
    assert made == [
        (model, cfg, sampler, 9, prompt)
        for model in ("dreamshaper_8", "v1-5-pruned-emaonly")
        for sampler in ("Euler a", "DPM++ 2M")
        for cfg in (5.0, 7.0)
    ]
    events = [json.loads(line) for line in stdout.decode().splitlines()]
    sheets = [event["path"] for event in events if event["event"] == "contact_sheet"]
    assert [path.rsplit("/", 1)[1] for path in sheets] == [
        "comparison_1_dreamshaper-8.png", "comparison_2_v1-5-pruned-emaonly.png",
    ]  # fmt: skip
    for path in sheets:
        sheet = Image.open(path)
        assert sheet.width == 64 // 2 + 16 + 2 * 64  # row labels + two columns
        assert sheet.height - 2 * 64 > 20  # title and column labels above two rows


async def test_a_failed_cell_is_a_marked_tile_and_exit_1(tmp_path):
    async with SimServer(speed=0) as sim:
        sim.faults.fail_next(1, path="txt2img")  # the first cell, cfg 5, fails at once
        process = await stablenew_async(
            "compare", "--node", sim.url, "--prompt", "a fox", "--seed", "1", "--steps", "2",
            "--size", "64x64", "--out", str(tmp_path), "--axis", "cfg=5,7",
        )  # fmt: skip
        stdout, stderr = await process.communicate()
    assert process.returncode == 1, stderr.decode()
    (sheet_path,) = tmp_path.glob("*/comparison.png")
    assert f"contact sheet: {sheet_path}" in stdout.decode()
    sheet = Image.open(sheet_path).convert("RGB")
    body = sheet.height - 64
    assert sheet.getpixel((4, body + 32)) == (200, 200, 200)  # cfg 5: no image
    assert sheet.getpixel((64 + 32, body + 32)) != (200, 200, 200)
    # Made after all, the sheet drawn again has every image.
    async with SimServer(speed=0) as sim:
        resumed = await stablenew_async("run", "--node", sim.url, "--resume", "--retry-failed")
        _, stderr = await resumed.communicate()
    assert resumed.returncode == 0, stderr.decode()
    again = stablenew("compare", "--sheet", str(sheet_path.parent))
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"contact sheet: {sheet_path}\n"
    sheet = Image.open(sheet_path).convert("RGB")
    assert sheet.getpixel((4, body + 32)) != (200, 200, 200)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--axis", "colour=red"], "--axis 'colour=red': no axis 'colour'"),
        (["--axis", "cfg=5,high"], "--axis cfg=high: expected a number"),
        (["--axis", "cfg=5,40"], "--axis cfg=40: txt2img.cfg_scale: Input should be less"),
        (["--axis", "sampler=Euler a,Eular"], "--axis sampler=Eular: txt2img.sampler:"),
        (["--axis", "model=dreamshaper_8,nope"], "--axis model=nope: txt2img.model:"),
        ([], "--axis: give at least one"),
    ],
)
async def test_bad_axes_exit_2_naming_them(args, message):
    async with SimServer(speed=0) as sim:
        process = await stablenew_async("compare", "--node", sim.url, "--prompt", "x", *args)
        _, stderr = await process.communicate()
    text = stderr.decode()
    assert process.returncode == 2, text
    assert message in text
    assert len(text.strip().splitlines()) == 1, text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--axis", "cfg=5"], "--prompt: give the prompt to compare"),
        (["--sheet"], "no comparison in the queue: `stablenew compare` makes one"),
        (["--sheet", "20990101-000000-abcdef"], "no run '20990101-000000-abcdef' in "),
        (["--sheet", "--axis", "cfg=5"], "--sheet draws an existing comparison"),
    ],
)
def test_missing_prompt_or_comparison_exits_2(args, message):
    result = stablenew("compare", "--node", "http://127.0.0.1:9", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


async def test_sheet_of_a_run_that_is_no_comparison_exits_2(sim, tmp_path):
    made = await stablenew_async("run", "--node", sim.url, "--prompt", "x", "--steps", "2",
                                 "--size", "64x64", "--out", str(tmp_path / "out"))  # fmt: skip
    _, stderr = await made.communicate()
    assert made.returncode == 0, stderr.decode()
    (folder,) = (tmp_path / "out").iterdir()
    result = stablenew("compare", "--sheet", str(folder))
    assert result.returncode == 2
    assert "is not a comparison (`stablenew compare` makes one)" in result.stderr


async def test_each_cell_sends_its_own_settings_to_every_stage(sim):
    grid = ComparisonGrid.parse(["denoising=0.3,0.6", "size=64x64,128x64", "clip_skip=2"])
    flags = {"stages": ["txt2img", "img2img"], "txt2img": {"steps": 2, "seed": 4}}
    launcher = launcher_for(sim.url)
    try:
        prepared, summary, _ = await run_to_end(
            launcher, RunRequest(prompt="a fox", flags=flags, grid=grid)
        )
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 4}
    sizes = [(body["width"], body["height"]) for body in posted(sim, "txt2img")]
    assert sizes == [(64, 64), (128, 64), (64, 64), (128, 64)]
    img2img = posted(sim, "img2img")
    assert [body["denoising_strength"] for body in img2img] == [0.3, 0.3, 0.6, 0.6]
    assert [(body["width"], body["height"]) for body in img2img] == sizes
    assert {body["override_settings"]["CLIP_stop_at_last_layers"] for body in img2img} == {2}
    assert prepared.run.source["comparison"][0] == {"name": "denoising", "values": ["0.3", "0.6"]}
