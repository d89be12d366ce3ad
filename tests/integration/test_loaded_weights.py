"""A run that names no checkpoint or VAE keeps the ones its node had loaded when it was planned,
whatever another client loads meanwhile: every request names them."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter

import httpx
import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.learning.records import read_records
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from tests.integration.conftest import FLAVORS
from tests.integration.pipeline_helpers import launcher_for, manifest, posted

SMALL = {"steps": 2, "width": 64, "height": 64, "seed": 7}
STAGES = ["txt2img", "img2img"]
# What another client switches to (by model name, which every flavor knows it by).
OTHER_MODEL = "dreamshaper_8"


def _other_weights(flavor: str) -> dict:
    """Options another client sets: another checkpoint and another VAE, as each server keeps
    its VAE."""
    if flavor == "forge":
        return {
            "sd_model_checkpoint": OTHER_MODEL,
            "forge_additional_modules": ["sdxl_vae.safetensors"],
        }
    return {"sd_model_checkpoint": OTHER_MODEL, "sd_vae": "sdxl_vae.safetensors"}


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_another_client_switching_weights_mid_run_changes_no_image(flavor):
    async with SimServer(flavor=flavor, speed=0) as sim:
        loaded = sim.webui.loaded_checkpoint
        launcher = launcher_for(sim.url)
        try:
            flags = {"stages": STAGES, "images_per_prompt": 3, "txt2img": SMALL}
            prepared = await launcher.prepare(RunRequest(prompt="a dog", flags=flags))
            await _set_options(sim.url, _other_weights(flavor))  # another client
            summary = await launcher.engine.run(prepared.run)
            jobs = launcher.queue.jobs(prepared.run.id)
        finally:
            await launcher.aclose()
        bodies = posted(sim, "txt2img") + posted(sim, "img2img")
    assert summary.counts == {"done": 3}
    # The jobs keep what was loaded at planning, so a resumed run is made with it too.
    assert {(job.spec.model, job.spec.vae) for job in jobs} == {(loaded.title, "Automatic")}
    for body in bodies:
        pinned = body["override_settings"]
        assert pinned["sd_model_checkpoint"] == loaded.title
        if flavor == "forge":
            assert pinned["forge_additional_modules"] == []
        else:
            assert pinned["sd_vae"] == "Automatic"
    lines = manifest(prepared.run.folder)
    assert len(lines) == 6
    # SD.Next reports no model name: the manifest names the one asked for, checked by hash.
    assert {line["model"] for line in lines} <= {loaded.short_name, loaded.title}
    assert all(line["model"] is not None for line in lines)
    assert {line["model_hash"] for line in lines} == {loaded.shorthash}
    records = read_records(AppPaths.from_environment().data_dir / "records.jsonl").records
    assert {record["inputs"]["model"] for record in records} == {loaded.title}


async def test_a_named_checkpoint_keeps_the_loaded_vae_and_a_named_vae_the_loaded_checkpoint(sim):
    launcher = launcher_for(sim.url)
    try:
        with_model = RunRequest(prompt="a", flags={"txt2img": SMALL | {"model": OTHER_MODEL}})
        with_vae = RunRequest(
            prompt="b", flags={"txt2img": SMALL | {"vae": "sdxl_vae.safetensors"}}
        )
        model_run = await launcher.prepare(with_model)
        vae_run = await launcher.prepare(with_vae)
    finally:
        await launcher.aclose()
    assert [(job.spec.model, job.spec.vae) for job in model_run.jobs] == [
        (OTHER_MODEL, "Automatic")
    ]
    loaded = sim.webui.loaded_checkpoint.title
    assert [(job.spec.model, job.spec.vae) for job in vae_run.jobs] == [
        (loaded, "sdxl_vae.safetensors")
    ]


async def test_every_node_of_a_run_is_given_the_first_nodes_checkpoint():
    async with SimServer(speed=0) as first, SimServer(speed=0) as second:
        await _set_options(second.url, {"sd_model_checkpoint": OTHER_MODEL})
        launcher = launcher_for(first.url, second.url)
        try:
            flags = {"images_per_prompt": 4, "txt2img": SMALL}
            prepared = await launcher.prepare(RunRequest(prompt="a dog", flags=flags))
            summary = await launcher.engine.run(prepared.run)
        finally:
            await launcher.aclose()
        asked = [
            body["override_settings"]["sd_model_checkpoint"]
            for sim in (first, second)
            for body in posted(sim, "txt2img")
        ]
        loaded = first.webui.loaded_checkpoint
    assert summary.counts == {"done": 4}
    assert asked == [loaded.title] * 4


async def test_a_node_without_the_first_nodes_checkpoint_is_named_before_anything_is_sent():
    async with SimServer(speed=0) as first, SimServer(speed=0) as second:
        loaded = first.webui.loaded_checkpoint
        second.webui.catalog.checkpoints.remove(second.webui.catalog.find_checkpoint(loaded.title))
        launcher = launcher_for(first.url, second.url)
        try:
            with pytest.raises(InputError) as raised:
                await launcher.prepare(RunRequest(prompt="a dog", flags={"txt2img": SMALL}))
        finally:
            await launcher.aclose()
        assert posted(first, "txt2img") == posted(second, "txt2img") == []
    assert str(raised.value) == (
        f"node1 has no {loaded.title!r}, the checkpoint loaded on node0 that this run would be "
        "made with as it names none: give --model with one every node has"
    )


async def test_the_cli_run_without_a_model_is_not_moved_by_a_second_run_with_one(tmp_path):
    """Two `stablenew run`s on one node, the second sending its first image while the first
    still has images to make."""
    async with SimServer(speed=1) as sim:
        loaded = sim.webui.loaded_checkpoint.short_name
        homes = {name: tmp_path / name for name in ("plain", "chosen")}
        plain = await _stablenew(homes["plain"], "--node", sim.url, "--prompt", "a dog",
                                 "--images-per-prompt", "8")  # fmt: skip
        plain_folder = await _until(lambda: _first_folder_with_lines(homes["plain"]))
        sim.speed = 0.05  # the first run's next image takes seconds: the second one gets in
        chosen = await _stablenew(homes["chosen"], "--node", sim.url, "--prompt", "a cat",
                                  "--model", OTHER_MODEL, "--images-per-prompt", "4")  # fmt: skip
        await _until(lambda: any(body["prompt"] == "a cat" for body in posted(sim, "txt2img")))
        sim.speed = 10
        outcomes = await asyncio.gather(plain.communicate(), chosen.communicate())
        prompts = [body["prompt"] for body in posted(sim, "txt2img")]
    assert (plain.returncode, chosen.returncode) == (0, 0), outcomes
    assert prompts.index("a cat") < len(prompts) - 1 - prompts[::-1].index("a dog"), "interleaved"
    assert Counter(line["model"] for line in manifest(plain_folder)) == {loaded: 8}
    (chosen_folder,) = (homes["chosen"] / "output").iterdir()
    assert Counter(line["model"] for line in manifest(chosen_folder)) == {OTHER_MODEL: 4}


async def _set_options(url: str, options: dict) -> None:
    async with httpx.AsyncClient(base_url=url) as client:
        (await client.post("/sdapi/v1/options", json=options)).raise_for_status()


async def _stablenew(home, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "stablenew_tui", "run", *args,
        "--steps", "20", "--size", "256x256",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "STABLENEW_HOME": str(home)},
    )  # fmt: skip


def _first_folder_with_lines(home):
    folders = list((home / "output").glob("*")) if (home / "output").exists() else []
    return folders[0] if folders and manifest(folders[0]) else None


async def _until(condition):
    for _ in range(1200):
        if found := condition():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("never happened")
