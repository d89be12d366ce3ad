"""Errors sorted by what helps, over real loopback HTTP: transient ones retried for a bounded
time on this node or another, rejections failed at once with the server's reason, out of
memory failed on that node only."""

from __future__ import annotations

import asyncio
import time

import pytest

from stablenew_tui.config import AppConfig, ClientConfig
from stablenew_tui.pipeline.events import CopyLost, JobFailed, NodeStatus
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import (
    drain,
    launcher_for,
    manifest,
    posted,
    run_acting_on,
)
from tests.proxy_stub import ReverseProxyStub


def small(images: int) -> dict:
    return {"images_per_prompt": images, "txt2img": {"steps": 2, "width": 64, "height": 64}}


def retrying_for(seconds: float) -> AppConfig:
    return AppConfig(client=ClientConfig(retry_seconds=seconds))


async def test_a_bad_spell_of_the_proxy_in_front_fails_no_image(sim):
    """nginx in front of the WebUI answers 502 and 503 pages for a few seconds (the WebUI
    restarting): every image is still made, after waiting the spell out."""
    with ReverseProxyStub(sim.url) as proxy:
        launcher = launcher_for(proxy.url)
        try:
            request = RunRequest(prompt="a harbour at night", flags=small(20))
            act = lambda: proxy.bad_spell(3.0)  # noqa: E731
            prepared, summary, events = await run_acting_on(launcher, request, act, 3)
        finally:
            await launcher.aclose()
    assert summary.counts == {"done": 20}
    assert proxy.refused >= 2, "the spell was met"
    retried = [event for event in events if isinstance(event, JobFailed)]
    assert retried and all(event.will_retry for event in retried)
    spell = ("rejected (502): 502 Bad Gateway", "rejected (503): 503 Service Temporarily")
    # The generation itself, or the look at the node's state as its image came back.
    assert all(any(answer in event.reason for answer in spell) for event in retried)
    assert len(manifest(prepared.run.folder)) == 20


@pytest.mark.parametrize(
    ("status", "message"),
    [(400, "Invalid encoded image"), (422, "field required"), (500, "Simulated crash")],
)
async def test_a_rejection_fails_at_once_with_the_servers_reason(sim, status, message):
    sim.faults.fail_next(1, path="txt2img", status=status, message=message)
    launcher = launcher_for(sim.url)
    try:
        request = RunRequest(prompt="x", flags=small(2))
        started = time.monotonic()
        prepared = await launcher.prepare(request)
        events = launcher.engine.events.subscribe_queue()
        summary = await launcher.engine.run(prepared.run)
    finally:
        await launcher.aclose()
    assert time.monotonic() - started < 10
    assert summary.counts == {"failed": 1, "done": 1}
    (failure,) = [event for event in drain(events) if isinstance(event, JobFailed)]
    assert not failure.will_retry
    assert failure.reason.startswith(f"txt2img rejected ({status}): ") and message in failure.reason
    assert len(posted(sim, "txt2img")) == 2, "the rejected image was not sent again"


async def test_out_of_memory_on_one_node_is_made_on_another():
    async with SimServer(speed=0) as small_gpu, SimServer(speed=0) as big_gpu:
        small_gpu.faults.oom_next(1, path="txt2img")
        launcher = launcher_for(small_gpu.url, big_gpu.url)
        try:
            request = RunRequest(prompt="a huge cathedral", flags=small(4))
            prepared = await launcher.prepare(request)
            events = launcher.engine.events.subscribe_queue()
            summary = await launcher.engine.run(prepared.run)
        finally:
            await launcher.aclose()
        seeds_small = [body["seed"] for body in posted(small_gpu, "txt2img")]
        seeds_big = [body["seed"] for body in posted(big_gpu, "txt2img")]
    assert summary.counts == {"done": 4}
    (failure,) = [event for event in drain(events) if isinstance(event, JobFailed)]
    assert failure.will_retry and failure.node == "node0"
    assert "out of memory" in failure.reason and "another node will try it" in failure.reason
    (line,) = [line for line in manifest(prepared.run.folder) if line["job_id"] == failure.job_id]
    assert line["node"] == "node1"
    assert seeds_small.count(line["seed"]) == 1, "never sent to the node that ran out again"
    assert line["seed"] in seeds_big


async def test_the_images_of_a_node_that_goes_down_are_made_on_another():
    async with SimServer(speed=0) as lost, SimServer(speed=0) as kept:
        launcher = launcher_for(lost.url, kept.url)  # retry_seconds: the default 300
        try:
            request = RunRequest(prompt="x", flags=small(8))
            started = time.monotonic()
            act = lambda: lost.faults.down_now(600)  # noqa: E731
            prepared, summary, events = await run_acting_on(launcher, request, act, within=30)
            took = time.monotonic() - started
        finally:
            lost.faults.clear()
            await launcher.aclose()
    assert summary.counts == {"done": 8}
    assert took < 15, "the run ends when its images are made, not when the node is given up"
    nodes = {line["node"] for line in manifest(prepared.run.folder)}
    assert "node1" in nodes
    # Either the lost node's error came back first, or an idle node made its image again
    # before then and the lost node's copy was dropped.
    assert any(
        e.node == "node0" and e.state == "DISCONNECTED" for e in events if isinstance(e, NodeStatus)
    ) or any(e.node == "node0" for e in events if isinstance(e, CopyLost))


async def test_a_node_silent_longer_than_retry_seconds_is_given_up_with_its_images_queued(sim):
    launcher = launcher_for(sim.url, config=retrying_for(2))
    try:
        request = RunRequest(prompt="x", flags=small(4))
        started = time.monotonic()
        act = lambda: sim.faults.down_now(120)  # noqa: E731
        _, summary, events = await run_acting_on(launcher, request, act, within=30)
        took = time.monotonic() - started
    finally:
        sim.faults.clear()
        await launcher.aclose()
    assert took < 15
    assert "failed" not in summary.counts, "the node failed, not the images"
    assert summary.counts["done"] >= 1 and summary.counts["queued"] >= 1
    statuses = [event.detail for event in events if isinstance(event, NodeStatus)]
    assert any(detail.startswith("given up after 2 s: ") for detail in statuses), statuses


async def test_an_image_failing_for_retry_seconds_while_its_node_answers_fails(sim):
    """The request itself takes the server down each time (a crash it restarts from): the
    node is fine in between, so after retry_seconds the image fails, with the last reason."""
    sim.faults.drop_next(1000, path="txt2img")
    launcher = launcher_for(sim.url, config=retrying_for(1.5))
    try:
        request = RunRequest(prompt="x", flags=small(1))
        prepared = await launcher.prepare(request)
        events = launcher.engine.events.subscribe_queue()
        summary = await asyncio.wait_for(launcher.engine.run(prepared.run), 30)
    finally:
        sim.faults.clear()
        await launcher.aclose()
    assert summary.counts == {"failed": 1}
    failures = [event for event in drain(events) if isinstance(event, JobFailed)]
    assert len(failures) >= 2 and all(event.will_retry for event in failures[:-1])
    final = failures[-1]
    assert not final.will_retry
    assert final.reason.startswith("gave up after ")
    assert ": connection dropped during txt2img (Server disconnected" in final.reason


async def test_a_bad_spell_of_the_proxy_reads_as_the_api_down_for_the_catalog(sim, tmp_path):
    """Probing a server behind a proxy answering 502 says it is unreachable for now (not
    "not a WebUI"): the catalog comes from the WebUI's folders, as when it is down."""
    from stablenew_tui.webui.resources import CatalogCache
    from tests.integration.conftest import client_for

    model = tmp_path / "webui" / "models" / "Stable-diffusion" / "v1-5.safetensors"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"")
    with ReverseProxyStub(sim.url) as proxy:
        proxy.bad_spell(60)
        async with client_for(proxy.url, retries=1) as client:
            assert not await client.reachable()
            catalog = await CatalogCache(client, webui_root=tmp_path / "webui").get()
    assert catalog.source == "filesystem" and catalog.models == ["v1-5.safetensors"]
