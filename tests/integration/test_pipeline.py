"""The engine end to end against the simulator: what the server received, what is on disk."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.learning.records import read_records
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.events import JobDone, JobFailed
from stablenew_tui.pipeline.launch import RunLauncher, RunRequest
from stablenew_tui.pipeline.outputs import read_manifest
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import launcher_for, manifest, posted, run_to_end

STAGE_SETS = [
    ["txt2img"],
    ["txt2img", "img2img"],
    ["txt2img", "upscale"],
    ["txt2img", "img2img", "upscale"],
]
MODEL = "dreamshaper_8.safetensors"
VAE = "vae-ft-mse-840000-ema-pruned.safetensors"


def _choices(stages: list[str]) -> dict:
    return {
        "stages": stages,
        "images_per_prompt": 2,
        "txt2img": {
            "seed": 1000, "model": MODEL, "vae": VAE, "sampler": "DPM++ 2M",
            "scheduler": "karras", "steps": 3, "cfg_scale": 6.0, "width": 256, "height": 192,
        },
        "img2img": {"denoising_strength": 0.35, "sampler": "Euler a", "steps": 2},
        "upscale": {"upscaler": "R-ESRGAN 4x+", "scale": 2.0},
    }  # fmt: skip


@pytest.mark.parametrize("stages", STAGE_SETS, ids=lambda s: "+".join(s))
async def test_every_stage_combination_sends_choices_verbatim(sim, stages):
    launcher = launcher_for(sim.url)
    try:
        request = RunRequest(prompt="a lighthouse at dusk", negative="fog", flags=_choices(stages))
        prepared, summary, events = await run_to_end(launcher, request)
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 2}
    assert [type(e) for e in events].count(JobDone) == 2

    # No switch through the options: every generation names its checkpoint and VAE.
    assert posted(sim, "options") == []
    pinned = {"sd_model_checkpoint": MODEL, "sd_vae": VAE}
    for body in posted(sim, "txt2img") + posted(sim, "img2img"):
        assert body["override_settings"] == pinned
        assert body["override_settings_restore_afterwards"] is False
    txt2img = posted(sim, "txt2img")
    assert [body["seed"] for body in txt2img] == [1000, 1001]
    for body in txt2img:
        assert body["prompt"] == "a lighthouse at dusk" and body["negative_prompt"] == "fog"
        assert (body["sampler_name"], body["scheduler"], body["steps"]) == ("DPM++ 2M", "karras", 3)
        assert (body["width"], body["height"], body["cfg_scale"]) == (256, 192, 6.0)
    img2img = posted(sim, "img2img")
    assert len(img2img) == (2 if "img2img" in stages else 0)
    for body in img2img:
        assert body["denoising_strength"] == 0.35 and body["sampler_name"] == "Euler a"
        assert body["scheduler"] == "karras" and len(body["init_images"]) == 1
    extras = posted(sim, "extra-single-image")
    assert len(extras) == (2 if "upscale" in stages else 0)
    for body in extras:
        assert body["upscaler_1"] == "R-ESRGAN 4x+" and body["upscaling_resize"] == 2.0
    assert all(not r.ignored_fields for r in sim.requests), "no field the server does not know"

    folder = Path(prepared.run.folder)
    lines = manifest(folder)
    assert len(lines) == 2 * len(stages)
    for stage in stages:
        files = sorted((folder / stage).glob("*.png"))
        assert len(files) == 2
    for line in lines:
        data = (folder / line["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == line["sha256"]
        assert line["node"] == "node0" and line["prompt"] == "a lighthouse at dusk"
        assert line["unverified"] == []
        if line["stage"] != "upscale":
            assert (line["model"], line["vae"]) == ("dreamshaper_8", VAE)
        assert "init_images" not in line["settings"] and "image" not in line["settings"]
    last = Image.open(folder / lines[-1]["path"])
    expected_width = 256 * (2 if "upscale" in stages else 1)
    assert last.size[0] == expected_width
    if stages == ["txt2img"]:
        assert "parameters" in last.info, "PNG bytes are kept as sent, infotext included"

    records = read_records(AppPaths.from_environment().data_dir / "records.jsonl")
    assert len(records.records) == 2 * len(stages) and not records.skipped_lines
    first = records.records[0]
    assert first["inputs"]["sampler"] == "DPM++ 2M" and first["inputs"]["seed"] == 1000
    assert first["outputs"]["paths"][0].endswith(".png")
    assert set(first["timings"]) == {"queued", "started", "finished"}
    assert (AppPaths.from_environment().data_dir / "last_run.toml").exists()


async def test_upscale_by_img2img_pass(sim):
    launcher = launcher_for(sim.url)
    flags = {
        "stages": ["txt2img", "upscale"],
        "txt2img": {"steps": 2, "width": 128, "height": 128, "seed": 5},
        "upscale": {"method": "img2img", "scale": 2.0, "denoising_strength": 0.15},
    }
    try:
        _, summary, _ = await run_to_end(launcher, RunRequest(prompt="x", flags=flags))
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 1}
    (body,) = posted(sim, "img2img")
    assert (body["width"], body["height"], body["denoising_strength"]) == (256, 256, 0.15)


async def test_out_of_memory_fails_the_job_once_and_keeps_earlier_stages(sim):
    sim.faults.oom_next(1, path="img2img")
    launcher = launcher_for(sim.url)
    flags = {
        "stages": ["txt2img", "img2img"],
        "images_per_prompt": 2,
        "txt2img": {"steps": 2, "width": 128, "height": 128, "seed": 7},
    }
    try:
        prepared, summary, events = await run_to_end(launcher, RunRequest(prompt="x", flags=flags))
    finally:
        await launcher.aclose()
    assert summary.counts == {"failed": 1, "done": 1}
    assert len(posted(sim, "img2img")) == 2, "no retry loop on out of memory"
    failure = next(e for e in events if isinstance(e, JobFailed))
    assert failure.stage == "img2img" and "out of memory" in failure.reason
    assert not failure.will_retry
    lines = manifest(prepared.run.folder)
    failed_job = [line for line in lines if line["job_id"] == failure.job_id]
    assert [line["stage"] for line in failed_job] == ["txt2img"], "earlier stage kept"


async def test_unknown_names_are_refused_before_anything_is_sent(sim):
    from stablenew_tui.errors import InputError

    launcher = launcher_for(sim.url)
    try:
        with pytest.raises(
            InputError, match=r"txt2img.sampler: .* has no 'DPM\+\+ 2N'.*'DPM\+\+ 2M'"
        ):
            await launcher.prepare(
                RunRequest(prompt="x", flags={"txt2img": {"sampler": "DPM++ 2N"}})
            )
    finally:
        await launcher.aclose()
    assert not [r for r in sim.requests if r.method == "POST"]


async def test_a_dropped_node_is_waited_for_and_the_job_retried(sim):
    sim.faults.down_next(0.5, path="txt2img")
    launcher = launcher_for(sim.url)
    flags = {"images_per_prompt": 2, "txt2img": {"steps": 2, "width": 128, "height": 128}}
    try:
        prepared, summary, events = await run_to_end(launcher, RunRequest(prompt="x", flags=flags))
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 2}
    retried = [e for e in events if isinstance(e, JobFailed)]
    assert len(retried) == 1 and retried[0].will_retry
    assert len(manifest(prepared.run.folder)) == 2


async def test_a_job_redone_after_a_crash_supersedes_the_lines_it_wrote_before(sim):
    """The process can die between appending a job's lines and the queue marking it done; the
    job is made again, here by another node making other bytes, and the manifest and the
    records then describe the new image, not the old one."""
    flags = {"images_per_prompt": 1, "txt2img": {"steps": 2, "width": 64, "height": 64}}
    launcher = launcher_for(sim.url)
    try:
        prepared, summary, _ = await run_to_end(launcher, RunRequest(prompt="x", flags=flags))
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 1}
    (job,) = prepared.jobs
    folder = Path(prepared.run.folder)
    first = read_manifest(folder)[0]
    # What the crash left: the lines are written, the job is still running, its lease lapsed.
    db = sqlite3.connect(launcher.queue.path)
    db.execute("UPDATE jobs SET status = 'running', lease_until = 0 WHERE id = ?", (job.id,))
    db.commit()
    db.close()

    async with SimServer(flavor="forge", speed=0) as other:
        node = NodeConfig(name="other", url=other.url)
        again = RunLauncher(AppConfig(), AppPaths.from_environment(), [node])
        try:
            assert (await again.engine.run(prepared.run)).counts == {"done": 1}
        finally:
            await again.aclose()
    (line,) = read_manifest(folder)
    assert line["node"] == "other" and line["sha256"] != first["sha256"]
    assert hashlib.sha256((folder / line["path"]).read_bytes()).hexdigest() == line["sha256"]
    records = read_records(AppPaths.from_environment().data_dir / "records.jsonl").records
    assert [(record["stage"], record["node"]) for record in records] == [("txt2img", "other")]


async def test_a_torn_manifest_line_then_a_resume_keeps_every_image_once(sim):
    """A crash in the middle of appending the second image's manifest line leaves it torn
    and the job running; the resumed job cuts the torn fragment off and writes its line again."""
    flags = {"images_per_prompt": 2, "txt2img": {"steps": 2, "width": 64, "height": 64}}
    launcher = launcher_for(sim.url)
    try:
        prepared, _, _ = await run_to_end(launcher, RunRequest(prompt="torn", flags=flags))
        first, second = prepared.jobs
        path = Path(prepared.run.folder) / "manifest.jsonl"
        intact, torn = path.read_text().splitlines()
        path.write_text(intact + "\n" + torn[: len(torn) // 2])  # no newline: cut mid-append
        # The dead process never marked it done, and its lease lapsed.
        db = sqlite3.connect(launcher.queue.path)
        db.execute("UPDATE jobs SET status = 'running', lease_until = 0 WHERE id = ?", (second.id,))
        db.commit()
        db.close()
        resumed = await launcher.resume()
        summary = await launcher.engine.run(resumed.run)
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 2}
    assert path.read_text().splitlines()[0] == intact
    assert torn[: len(torn) // 2] not in path.read_text().splitlines()
    assert [entry["job_id"] for entry in read_manifest(path.parent)] == [first.id, second.id]


async def test_the_video_tail_joins_the_run_and_records_it(sim):
    flags = {
        "stages": ["txt2img", "upscale", "video"],
        "images_per_prompt": 3,
        "txt2img": {"steps": 2, "width": 64, "height": 64, "seed": 9},
        "upscale": {"upscaler": "Lanczos", "scale": 2.0},
        "video": {"fps": 4, "seconds_per_image": 0.5, "format": "mp4"},
    }
    launcher = launcher_for(sim.url)
    try:
        prepared, summary, events = await run_to_end(launcher, RunRequest(prompt="x", flags=flags))
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 3}
    folder = Path(prepared.run.folder)
    video = folder / "video.mp4"
    assert video.exists() and video.stat().st_size > 0
    (line,) = [line for line in manifest(folder) if line["stage"] == "video"]
    assert line["path"] == "video.mp4" and line["frames"] == 6 and line["size"] == [128, 128]
    assert [Path(image).parent.name for image in line["images"]] == ["upscale"] * 3
    assert hashlib.sha256(video.read_bytes()).hexdigest() == line["sha256"]
    kinds = [event.kind for event in events]
    assert kinds.index("video_started") < kinds.index("video_done") < kinds.index("run_finished")
    records = read_records(AppPaths.from_environment().data_dir / "records.jsonl").records
    assert [r["stage"] for r in records].count("video") == 1
