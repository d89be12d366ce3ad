"""Per-node limits from `[[nodes]]` (`models` patterns, `max_megapixels`) over real loopback HTTP:
each image goes only to a node that may make it, and one that no node may make is refused at
planning or failed at claim time, naming the limits."""

from __future__ import annotations

import asyncio

import pytest

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.errors import InputError
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.events import JobFailed
from stablenew_tui.pipeline.launch import RunLauncher, RunRequest
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import drain, manifest, posted

SD15 = "v1-5-pruned-emaonly.safetensors"
SDXL = "sd_xl_base_1.0.safetensors"


def launcher_on(*nodes: NodeConfig) -> RunLauncher:
    return RunLauncher(AppConfig(), AppPaths.from_environment(), list(nodes))


def flags(images: int, side: int = 64, model: str | list[str] = SD15) -> dict:
    size = {"steps": 2, "width": side, "height": side, "model": model}
    return {"images_per_prompt": images, "txt2img": size}


async def test_each_checkpoint_goes_only_to_the_nodes_its_patterns_allow():
    async with SimServer(speed=0) as light, SimServer(speed=0) as heavy:
        launcher = launcher_on(
            NodeConfig(name="light", url=light.url, models=["!sd_xl*"]),
            NodeConfig(name="heavy", url=heavy.url, models=["SD_XL_*"]),
        )
        try:
            request = RunRequest(prompt="a fox", flags=flags(4, model=[SD15, SDXL]))
            prepared = await launcher.prepare(request)
            summary = await asyncio.wait_for(launcher.engine.run(prepared.run), 60)
        finally:
            await launcher.aclose()
        light_models = {
            b["override_settings"]["sd_model_checkpoint"] for b in posted(light, "txt2img")
        }
        heavy_models = {
            b["override_settings"]["sd_model_checkpoint"] for b in posted(heavy, "txt2img")
        }
    assert summary.counts == {"done": 8}
    assert light_models and all(model.startswith("v1-5") for model in light_models)
    assert heavy_models and all(model.startswith("sd_xl") for model in heavy_models)
    nodes = {line["node"] for line in manifest(prepared.run.folder)}
    assert nodes == {"light", "heavy"}


async def test_images_larger_than_a_nodes_max_megapixels_go_to_another():
    async with SimServer(speed=0) as weak, SimServer(speed=0) as strong:
        launcher = launcher_on(
            NodeConfig(name="weak", url=weak.url, max_megapixels=0.1),
            NodeConfig(name="strong", url=strong.url),
        )
        try:
            request = RunRequest(prompt="a fox", flags=flags(4, side=512))
            prepared = await launcher.prepare(request)
            summary = await asyncio.wait_for(launcher.engine.run(prepared.run), 60)
        finally:
            await launcher.aclose()
        assert posted(weak, "txt2img") == []
    assert summary.counts == {"done": 4}


async def test_a_run_no_node_may_make_is_refused_at_planning_naming_the_limits(sim):
    launcher = launcher_on(
        NodeConfig(name="small", url=sim.url, max_megapixels=0.1),
        NodeConfig(name="sd15-only", url=sim.url, models=["v1-5*", "dreamshaper*"]),
    )
    try:
        with pytest.raises(InputError) as refused:
            await launcher.prepare(RunRequest(prompt="a fox", flags=flags(2, 512, SDXL)))
    finally:
        await launcher.aclose()
    message = str(refused.value)
    assert message.startswith("[[nodes]] limits: the prompt 'a fox': no node of the run may make")
    assert f"model {SDXL}, 0.262 MP" in message
    assert "small makes at most 0.1 MP" in message
    assert "sd15-only takes only models v1-5*, dreamshaper*" in message
    assert posted(sim, "txt2img") == []


async def test_a_job_no_node_may_make_fails_at_claim_time_when_resumed_on_limited_nodes(sim):
    """Planned on any node, then made on one whose limits refuse it: it fails saying why."""
    launcher = launcher_on(NodeConfig(name="any", url=sim.url))
    try:
        prepared = await launcher.prepare(RunRequest(prompt="a fox", flags=flags(2, 512)))
        await launcher.pool.use([NodeConfig(name="small", url=sim.url, max_megapixels=0.1)])
        events = launcher.engine.events.subscribe_queue()
        summary = await asyncio.wait_for(launcher.engine.run(prepared.run), 60)
    finally:
        await launcher.aclose()
    assert summary.counts == {"failed": 2}
    failures = [e for e in drain(events) if isinstance(e, JobFailed)]
    assert len(failures) == 2 and not any(e.will_retry for e in failures)
    assert all(
        e.reason == f"no node of the run may make it (model {SD15}, 0.262 MP): "
        "small makes at most 0.1 MP"
        for e in failures
    ), failures
    assert posted(sim, "txt2img") == []


async def test_out_of_memory_where_no_other_node_may_make_the_image_fails_it_saying_so():
    async with SimServer(speed=0) as big, SimServer(speed=0) as weak:
        big.faults.oom_next(1, path="txt2img")
        launcher = launcher_on(
            NodeConfig(name="big", url=big.url),
            NodeConfig(name="weak", url=weak.url, max_megapixels=0.1),
        )
        try:
            prepared = await launcher.prepare(RunRequest(prompt="a fox", flags=flags(2, 512)))
            events = launcher.engine.events.subscribe_queue()
            summary = await asyncio.wait_for(launcher.engine.run(prepared.run), 60)
        finally:
            await launcher.aclose()
        assert posted(weak, "txt2img") == []
    assert summary.counts == {"failed": 1, "done": 1}
    (failure,) = [e for e in drain(events) if isinstance(e, JobFailed)]
    assert not failure.will_retry and "CUDA out of memory" in failure.reason
    assert failure.reason.endswith("; no other node of the run may make it")
