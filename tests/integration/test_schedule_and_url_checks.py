"""What a node cannot do, or an address that is not a node's, said in one line before anything is
sent: a schedule a server has no way to keep, a URL pointing into the API."""

from __future__ import annotations

import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import launcher_for, manifest, posted, run_to_end
from tests.integration.test_run_cli import stablenew_async

SMALL = ("--steps", "2", "--size", "64x64")
KARRAS_ON_1_8 = (
    "'DPM++ 2M Karras', 'DPM++ SDE Karras', 'DPM++ 2M SDE Karras', 'DPM++ 3M SDE Karras', "
    "'LMS Karras', 'DPM2 Karras', 'DPM2 a Karras', 'DPM++ 2S a Karras'"
)


async def _run(*args: str) -> tuple[int, str]:
    process = await stablenew_async(*args)
    _stdout, stderr = await process.communicate()
    assert process.returncode is not None
    assert "Traceback" not in stderr.decode()
    return process.returncode, stderr.decode()


@pytest.mark.parametrize("scheduler", ["karras", "Karras", "exponential"])
async def test_sdnext_refuses_a_scheduler_it_cannot_keep(scheduler):
    async with SimServer(flavor="sdnext", speed=0) as sim:
        code, stderr = await _run("run", "--node", sim.url, "--prompt", "a dog",
                                  "--scheduler", scheduler, *SMALL)  # fmt: skip
        sent = posted(sim, "txt2img")
    host = sim.url.removeprefix("http://")
    assert code == 2
    assert stderr == (
        f"stablenew: txt2img.scheduler: {host} is SD.Next, which has no separate scheduler and "
        f'no sampler named with one, so {scheduler!r} cannot be kept (its own "Sigma method" '
        "setting picks the schedule); set the scheduler to Automatic (--scheduler automatic)\n"
    )
    assert sent == []


async def test_sdnext_runs_with_the_automatic_schedule_and_names_its_model():
    async with SimServer(flavor="sdnext", speed=0) as sim:
        launcher = launcher_for(sim.url)
        flags = {"txt2img": {"scheduler": "Automatic", "steps": 2, "width": 64, "height": 64}}
        try:
            prepared, summary, _ = await run_to_end(launcher, RunRequest(prompt="a", flags=flags))
        finally:
            await launcher.aclose()
        loaded = sim.webui.loaded_checkpoint
    assert summary.counts == {"done": 1}
    (line,) = manifest(prepared.run.folder)
    assert line["model"] == loaded.title and line["model_hash"] == loaded.shorthash
    assert "scheduler" not in line["settings"]


async def test_a1111_1_8_refuses_a_sampler_without_the_schedules_variant():
    async with SimServer(flavor="a1111-1.8", speed=0) as sim:
        code, stderr = await _run("run", "--node", sim.url, "--prompt", "a dog",
                                  "--scheduler", "karras", *SMALL)  # fmt: skip
        sent = posted(sim, "txt2img")
    host = sim.url.removeprefix("http://")
    assert code == 2
    assert stderr == (
        f"stablenew: txt2img.scheduler: 'Euler a' has no Karras variant on {host} "
        "(AUTOMATIC1111 v1.8.0 names the schedule in the sampler): choose one of "
        f"{KARRAS_ON_1_8}, or set the scheduler to Automatic (--scheduler automatic)\n"
    )
    assert sent == []


async def test_a1111_1_8_makes_a_sampler_with_the_schedules_variant():
    async with SimServer(flavor="a1111-1.8", speed=0) as sim:
        code, stderr = await _run("run", "--node", sim.url, "--prompt", "a dog",
                                  "--sampler", "DPM++ 2M", "--scheduler", "karras",
                                  *SMALL)  # fmt: skip
        (body,) = posted(sim, "txt2img")
    assert code == 0, stderr
    assert body["sampler_name"] == "DPM++ 2M Karras" and "scheduler" not in body


async def test_a1111_1_8_checks_the_img2img_pass_with_the_schedule_it_inherits():
    async with SimServer(flavor="a1111-1.8", speed=0) as sim:
        launcher = launcher_for(sim.url)
        flags = {
            "stages": ["txt2img", "img2img"],
            "txt2img": {"sampler": "DPM++ 2M", "scheduler": "karras"},
            "img2img": {"sampler": "Euler a"},
        }
        try:
            with pytest.raises(InputError, match=r"^img2img\.sampler: 'Euler a' has no Karras"):
                await launcher.prepare(RunRequest(prompt="a dog", flags=flags))
        finally:
            await launcher.aclose()


@pytest.mark.parametrize(
    ("suffix", "page"),
    [("/sdapi/v1", "/sdapi/v1"), ("/sdapi/v1/", "/sdapi/v1"), ("/docs", "/docs"),
     ("/sdapi/v1/txt2img", "/sdapi/v1/txt2img")],
)  # fmt: skip
async def test_a_node_url_into_the_api_names_the_address_to_use(suffix, page):
    async with SimServer(speed=0) as sim:
        code, stderr = await _run("resources", "--node", sim.url + suffix)
    assert code == 2
    assert stderr == (
        f"stablenew: --node {sim.url}{suffix}: node URL ends in {page}, a page of the WebUI's "
        f"API, not its address: use {sim.url}\n"
    )
