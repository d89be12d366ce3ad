"""No image made with something other than what was asked is ever kept: against the simulator
over loopback, with other clients changing the node, and with two `stablenew run` processes
sharing one node."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import httpx
from PIL import Image

from stablenew_tui.pipeline.events import JobFailed
from stablenew_tui.pipeline.jobs import PromptSpec, plan_run
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.sim import SimServer
from stablenew_tui.webui.infotext import infotext_parameters
from tests.integration.pipeline_helpers import drain, launcher_for, manifest, posted, run_to_end

DREAMSHAPER = "dreamshaper_8"
SD15 = "v1-5-pruned-emaonly.safetensors"
SMALL = {"steps": 2, "width": 64, "height": 64}


def infotext_of(path: Path) -> dict[str, str]:
    with Image.open(path) as image:
        return infotext_parameters(image.info["parameters"])


async def test_every_flavor_passes_the_checks_when_it_does_what_was_asked(any_sim):
    launcher = launcher_for(any_sim.url)
    vae = "vae-ft-mse-840000-ema-pruned.safetensors"
    flags = {
        "stages": ["txt2img", "img2img"],
        "txt2img": {"model": DREAMSHAPER, "vae": vae, "seed": 3, **SMALL},
    }
    try:
        prepared, summary, _ = await run_to_end(launcher, RunRequest(prompt="x", flags=flags))
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 1}
    for line in manifest(prepared.run.folder):
        if "model" in line["unverified"]:  # a server that does not say: what was asked
            assert line["model"] == DREAMSHAPER
        else:
            assert line["model"] == "dreamshaper_8"
        assert set(line["unverified"]) <= (
            {"model", "vae"} if any_sim.flavor == "sdnext" else set()
        )


async def test_a_model_switched_by_another_client_mid_run_makes_no_wrong_image():
    async with SimServer(speed=8) as sim, httpx.AsyncClient(base_url=sim.url) as other:
        launcher = launcher_for(sim.url)
        flags = {"images_per_prompt": 4, "txt2img": {"model": DREAMSHAPER, **SMALL}}

        async def keep_switching() -> None:
            while True:
                await other.post("/sdapi/v1/options", json={"sd_model_checkpoint": SD15})
                await asyncio.sleep(0.05)

        switching = asyncio.create_task(keep_switching())
        try:
            prepared, summary, _ = await run_to_end(launcher, RunRequest(prompt="x", flags=flags))
        finally:
            switching.cancel()
            await launcher.aclose()
        order = [r.path.rsplit("/", 1)[-1] for r in sim.requests if r.method == "POST"]
    assert "options" in order[order.index("txt2img") :], "the model was switched during the run"
    assert summary.counts == {"done": 4}
    folder = Path(prepared.run.folder)
    for line in manifest(folder):
        assert line["model"] == "dreamshaper_8" and line["unverified"] == []
        assert infotext_of(folder / line["path"])["Model"] == "dreamshaper_8"


async def run_planned_earlier(url: str, txt2img: dict, folder: Path) -> tuple[dict, JobFailed]:
    """Run one image planned without asking the node, as a run resumed after the node changed
    is: the names were right when the run was planned. Returns the counts and the failure."""
    launcher = launcher_for(url)
    settings = PipelineSettings.model_validate({"txt2img": {**txt2img, **SMALL}})
    run, jobs = plan_run(
        [(0, PromptSpec(prompt="x"))], settings, base_seed=5, name="x", folder=str(folder)
    )
    launcher.queue.add_run(run, jobs)
    events = launcher.engine.events.subscribe_queue()
    try:
        summary = await launcher.engine.run(run)
    finally:
        await launcher.aclose()
    (failure,) = [event for event in drain(events) if isinstance(event, JobFailed)]
    return summary.counts, failure


async def test_a_replaced_sampler_fails_the_job_and_keeps_nothing(sim, tmp_path):
    """v1.10 makes the image with its first sampler instead of an unknown one, answering 200."""
    counts, failure = await run_planned_earlier(sim.url, {"sampler": "Eulerr"}, tmp_path)
    assert counts == {"failed": 1}
    assert "asked for sampler 'Eulerr', the node made it with 'DPM++ 2M'" in failure.reason
    assert not failure.will_retry and len(posted(sim, "txt2img")) == 1
    assert manifest(tmp_path) == [] and not list(tmp_path.rglob("*.png"))


async def test_a_checkpoint_the_node_no_longer_has_is_asked_again_then_the_job_fails(sim, tmp_path):
    """A1111 drops an override naming a checkpoint it does not know (renamed since the run was
    planned) and makes the image with the loaded one, answering 200."""
    counts, failure = await run_planned_earlier(sim.url, {"model": "renamed.ckpt"}, tmp_path)
    assert counts == {"failed": 1}
    assert failure.reason == (
        "asked for model 'renamed.ckpt', the node made it with 'sd_xl_base_1.0 [31e35c80fc]'"
    )
    assert len(posted(sim, "txt2img")) == 2, "sent once more: the model may have changed under it"
    assert manifest(tmp_path) == [] and not list(tmp_path.rglob("*.png"))


async def test_forge_failing_to_load_the_checkpoint_is_a_model_load_failure():
    async with SimServer(flavor="forge", speed=0) as sim:
        sim.webui.unloadable.add(f"{DREAMSHAPER}.safetensors")
        launcher = launcher_for(sim.url)
        flags = {"images_per_prompt": 2, "txt2img": {"model": DREAMSHAPER, **SMALL}}
        try:
            _, summary, events = await run_to_end(launcher, RunRequest(prompt="x", flags=flags))
        finally:
            await launcher.aclose()
    assert summary.counts == {"failed": 2}
    reasons = {event.reason for event in events if isinstance(event, JobFailed)}
    assert reasons == {
        "could not load model 'dreamshaper_8': ValueError: Failed to recognize model type!"
    }


async def test_forge_generation_errors_with_the_checkpoint_loaded_stay_what_they_are():
    async with SimServer(flavor="forge", speed=0) as sim:
        sim.faults.fail_next(1, path="txt2img")
        launcher = launcher_for(sim.url)
        flags = {"txt2img": {"model": sim.webui.catalog.checkpoints[0].title, **SMALL}}
        try:
            _, summary, events = await run_to_end(launcher, RunRequest(prompt="x", flags=flags))
        finally:
            await launcher.aclose()
    (failure,) = [event for event in events if isinstance(event, JobFailed)]
    assert summary.counts == {"failed": 1}
    assert "could not load" not in failure.reason and "Simulated server failure" in failure.reason


async def test_two_runs_with_different_models_on_one_node_make_only_correct_images(tmp_path):
    simulator = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "stablenew_tui", "sim", "--port", "0", "--speed", "10",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = (await asyncio.wait_for(simulator.stdout.readline(), 60)).decode()
        url = re.search(r"http://\S+", line).group(0)
        runs = {"dreamshaper_8": DREAMSHAPER, "v1-5-pruned-emaonly": SD15}
        homes = {stem: tmp_path / stem for stem in runs}
        processes = {
            stem: await asyncio.create_subprocess_exec(
                sys.executable, "-m", "stablenew_tui", "run", "--node", url,
                "--prompt", f"a lighthouse, {stem}", "--model", model,
                "--images-per-prompt", "6", "--steps", "3", "--size", "96x96",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                env={**os.environ, "STABLENEW_HOME": str(homes[stem])},
            )
            for stem, model in runs.items()
        }  # fmt: skip
        outcomes = {
            stem: await asyncio.wait_for(process.communicate(), 120)
            for stem, process in processes.items()
        }
    finally:
        simulator.terminate()
        await simulator.wait()
    for stem, process in processes.items():
        assert process.returncode == 0, outcomes[stem][1].decode()
        (folder,) = (homes[stem] / "output").iterdir()
        lines = manifest(folder)
        assert len(lines) == 6
        for entry in lines:
            made = infotext_of(folder / entry["path"])
            assert entry["model"] == made["Model"] == stem, entry["path"]
            assert entry["model_hash"] == made["Model hash"]
