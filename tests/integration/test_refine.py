"""Runs whose jobs start from existing images, against the simulator over loopback HTTP: what
the server received, what was written, and that such a job survives like any other."""

from __future__ import annotations

import base64
import hashlib
import shutil
from pathlib import Path

import pytest
from PIL import Image

from stablenew_tui.errors import InputError
from stablenew_tui.learning.records import read_records
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.pipeline.refine import RefineRequest
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import launcher_for, manifest, posted, run_to_end

FLAGS = {"images_per_prompt": 2, "txt2img": {"steps": 2, "width": 64, "height": 96}}
REFINE = {"img2img": {"denoising_strength": 0.35, "steps": 3}, "upscale": {"scale": 2.0}}


async def _made(launcher, prompt: str = "a red fox", negative: str = "blurry") -> list[Path]:
    """A finished txt2img run's images, in job order."""
    request = RunRequest(prompt=prompt, negative=negative, flags=FLAGS)
    prepared, summary, _ = await run_to_end(launcher, request)
    assert summary.counts == {"done": 2}
    return sorted((Path(prepared.run.folder) / "txt2img").iterdir())


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


async def test_chosen_images_go_through_img2img_and_upscale_with_their_prompt_and_seed(sim):
    launcher = launcher_for(sim.url)
    try:
        first, second = await _made(launcher)
        made = {body["seed"]: body for body in posted(sim, "txt2img")}
        request = RefineRequest([str(second), str(first)], ["upscale", "img2img"], flags=REFINE)
        prepared = await launcher.prepare_refine(request)
        summary = await launcher.engine.run(prepared.run)
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 2}
    assert prepared.run.settings.stages == ["img2img", "upscale"]
    sent = posted(sim, "img2img")
    assert [body["init_images"] for body in sent] == [[_b64(second)], [_b64(first)]]
    for body in sent:
        source = made[body["seed"]]  # the seed of the image it starts from
        assert (body["prompt"], body["negative_prompt"]) == ("a red fox", "blurry")
        assert (body["width"], body["height"]) == (64, 96), "the source image's size"
        assert (body["denoising_strength"], body["steps"]) == (0.35, 3)
        assert source["prompt"] == body["prompt"]
    upscaled = posted(sim, "extra-single-image")
    assert [body["upscaling_resize"] for body in upscaled] == [2.0, 2.0]
    lines = manifest(prepared.run.folder)
    assert {line["stage"] for line in lines} == {"img2img", "upscale"}
    for line in lines:
        path = Path(line["source_image"]["path"])
        assert path in (first, second)
        assert line["source_image"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    final = Path(prepared.run.folder) / "upscale"
    assert [Image.open(p).size for p in sorted(final.iterdir())] == [(128, 192)] * 2
    records = read_records(AppPaths.from_environment().data_dir / "records.jsonl").records
    refined = [r for r in records if r["run_id"] == prepared.run.id]
    assert {r["inputs"]["source_image"]["path"] for r in refined} == {str(first), str(second)}


async def test_an_image_from_elsewhere_is_refined_with_what_its_infotext_says(tmp_path):
    async with SimServer(flavor="sdnext", speed=0) as sim:  # SD.Next sends JPEG by default
        launcher = launcher_for(sim.url)
        try:
            made = await _made(launcher, "an owl at night", "noise")
            loose = tmp_path / "owl.jpg"  # out of its run folder: no manifest beside it
            shutil.copy(made[0], loose)
            assert made[0].suffix == ".jpg"
            prepared = await launcher.prepare_refine(RefineRequest([str(loose)], ["img2img"]))
            summary = await launcher.engine.run(prepared.run)
        finally:
            await launcher.aclose()
        first_seed = posted(sim, "txt2img")[0]["seed"]
        (body,) = posted(sim, "img2img")
    assert summary.counts == {"done": 1}
    assert (body["prompt"], body["negative_prompt"], body["seed"]) == (
        "an owl at night", "noise", first_seed,
    )  # fmt: skip
    assert body["init_images"] == [_b64(loose)]


async def test_flags_replace_the_prompt_and_seed_and_an_image_without_either_needs_them(
    sim, tmp_path
):
    bare = tmp_path / "photo.webp"
    Image.new("RGB", (64, 64), "teal").save(bare, "WEBP")
    launcher = launcher_for(sim.url)
    try:
        with pytest.raises(InputError, match=r"photo\.webp: neither a run's manifest nor an"):
            await launcher.prepare_refine(RefineRequest([str(bare)], ["img2img"]))
        request = RefineRequest([str(bare)], ["img2img"], prompt="a teal wall", seed=7)
        prepared = await launcher.prepare_refine(request)
        await launcher.engine.run(prepared.run)
    finally:
        await launcher.aclose()
    (body,) = posted(sim, "img2img")
    assert (body["prompt"], body["negative_prompt"], body["seed"]) == ("a teal wall", "", 7)


@pytest.mark.parametrize(
    ("images", "stages", "message"),
    [
        (["{tmp}/missing.png"], ["img2img"], "missing.png: no such file"),
        (["{tmp}/notes.png"], ["img2img"], "notes.png: not a PNG, JPEG or WebP image"),
        (["{tmp}"], ["img2img"], "a folder, not an image"),
        (["{tmp}/notes.png"], ["txt2img"], "'txt2img' cannot be one of its stages"),
        (["{tmp}/notes.png"], [], "name at least one of img2img, upscale"),
        ([], ["img2img"], "name at least one image to refine"),
    ],
)
async def test_bad_refine_input_is_one_clear_error(sim, tmp_path, images, stages, message):
    (tmp_path / "notes.png").write_text("not an image")
    launcher = launcher_for(sim.url)
    try:
        images = [name.replace("{tmp}", str(tmp_path)) for name in images]
        with pytest.raises(InputError, match=message):
            await launcher.prepare_refine(RefineRequest(images, stages))
    finally:
        await launcher.aclose()
    assert posted(sim, "img2img") == []


async def test_a_refine_job_waits_in_the_queue_and_is_made_by_the_next_process(sim):
    launcher = launcher_for(sim.url)
    try:
        (first, _) = await _made(launcher)
        prepared = await launcher.prepare_refine(RefineRequest([str(first)], ["img2img"]))
    finally:
        await launcher.aclose()  # this process ends before making it
    later = launcher_for(sim.url)
    try:
        resumed = await later.resume()
        assert resumed.run.id == prepared.run.id
        assert resumed.jobs[0].spec.image == prepared.jobs[0].spec.image
        summary = await later.engine.run(resumed.run)
    finally:
        await later.aclose()
    assert summary.counts == {"done": 1}
    assert [body["init_images"] for body in posted(sim, "img2img")] == [[_b64(first)]]


async def test_an_image_changed_after_planning_fails_its_job_and_no_other(sim):
    launcher = launcher_for(sim.url)
    try:
        first, second = await _made(launcher)
        request = RefineRequest([str(first), str(second)], ["img2img"])
        prepared = await launcher.prepare_refine(request)
        Image.new("RGB", (64, 96), "red").save(first)  # overwritten before the run starts
        summary = await launcher.engine.run(prepared.run)
        failed = launcher.queue.jobs(prepared.run.id, "failed")
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 1, "failed": 1}
    assert (
        failed[0].error is not None and "has changed since the run was planned" in failed[0].error
    )
    assert [body["init_images"] for body in posted(sim, "img2img")] == [[_b64(second)]]


async def test_a_run_from_prompts_starts_with_txt2img(sim):
    launcher = launcher_for(sim.url)
    try:
        with pytest.raises(InputError, match="a run from prompts starts with txt2img"):
            await launcher.prepare(RunRequest(prompt="x", flags={"stages": ["img2img"]}))
    finally:
        await launcher.aclose()


async def test_a_refine_run_leaves_the_last_run_as_it_was(sim):
    launcher = launcher_for(sim.url)
    last_run = AppPaths.from_environment().data_dir / "last_run.toml"
    try:
        (first, _) = await _made(launcher)
        remembered = last_run.read_text()
        prepared = await launcher.prepare_refine(RefineRequest([str(first)], ["upscale"]))
        await launcher.engine.run(prepared.run)
    finally:
        await launcher.aclose()
    assert last_run.read_text() == remembered


async def test_one_image_made_again_with_its_seed_or_a_new_one(sim):
    launcher = launcher_for(sim.url)
    try:
        second = (await _made(launcher))[1]
        original = posted(sim, "txt2img")[1]
        job_id = manifest(second.parent.parent)[1]["job_id"]
        for seed in (original["seed"], 12345):
            prepared = await launcher.prepare_again(job_id, seed)
            await launcher.engine.run(prepared.run)
    finally:
        await launcher.aclose()
    same, other = posted(sim, "txt2img")[2:]
    assert same == original, "the same settings, prompt and seed"
    assert other == {**original, "seed": 12345}
