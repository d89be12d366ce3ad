"""Draining, undraining and adding nodes while a run is being made, on two simulators over
loopback: every image is still made exactly once."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.errors import InputError, StableNewError
from stablenew_tui.pipeline.events import Event, JobDone, StageStarted
from stablenew_tui.pipeline.launch import RunLauncher, RunRequest
from stablenew_tui.pipeline.monitor import NodeMonitor
from stablenew_tui.services.control import Hold, RunControl
from stablenew_tui.services.node_control import NodeControl
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import drain, launcher_for, manifest, posted

IMAGES = 8
# About a third of a second per image at speed 1: long enough to steer while the run goes.
FLAGS = {"images_per_prompt": IMAGES, "txt2img": {"steps": 5, "width": 512, "height": 512}}


@pytest.fixture
async def sims():
    async with SimServer(speed=1) as first, SimServer(speed=1) as second:
        yield first, second


def steering(launcher: RunLauncher) -> NodeControl:
    return NodeControl(launcher, NodeMonitor(launcher.pool, launcher.engine.events))


async def _until(events: asyncio.Queue, seen: list[Event], found: Callable[[Event], bool]):
    while True:
        event = await asyncio.wait_for(events.get(), 30)
        seen.append(event)
        if found(event):
            return event


async def _start(launcher: RunLauncher, images: int = IMAGES):
    prepared = await launcher.prepare(
        RunRequest(prompt="a fox", flags={**FLAGS, "images_per_prompt": images})
    )
    events = launcher.engine.events.subscribe_queue()
    return prepared, events, asyncio.create_task(launcher.engine.run(prepared.run))


def _made_once(prepared, done: list[JobDone], images: int = IMAGES) -> None:
    assert sorted(event.index for event in done) == list(range(images))
    jobs = [line["job_id"] for line in manifest(prepared.run.folder)]
    assert len(jobs) == len(set(jobs)) == images, "each image written once"


async def test_a_drained_node_finishes_its_image_then_makes_no_more(sims):
    first, second = sims
    launcher = launcher_for(first.url, second.url)
    control = steering(launcher)
    try:
        prepared, events, task = await _start(launcher)
        seen: list[Event] = []
        await _until(events, seen, lambda e: isinstance(e, StageStarted) and e.node == "node1")
        control.drain("node1")
        started_there = [e for e in seen if isinstance(e, StageStarted) and e.node == "node1"]
        summary = await asyncio.wait_for(task, 60)
    finally:
        await launcher.aclose()
    seen += drain(events)
    assert summary.counts == {"done": IMAGES} and not summary.stopped
    done = [e for e in seen if isinstance(e, JobDone)]
    _made_once(prepared, done)
    on_drained = [e.index for e in done if e.node == "node1"]
    assert on_drained == [e.index for e in started_there], "it finished what it had begun"
    assert len(posted(second, "txt2img")) == len(started_there), "and was sent nothing more"
    assert len(posted(first, "txt2img")) == IMAGES - len(started_there)


async def test_draining_every_node_holds_the_run_until_one_is_undrained(sims):
    first, second = sims
    launcher = launcher_for(first.url, second.url)
    control = steering(launcher)
    run_control = RunControl(launcher)
    try:
        prepared, events, task = await _start(launcher)
        seen: list[Event] = []
        await _until(events, seen, lambda e: isinstance(e, JobDone))
        control.drain("node0")
        control.drain("node1")
        await asyncio.sleep(1.5)  # each image takes a third of that: both have ended theirs
        assert not task.done(), "the run waits for a node to be undrained"
        assert launcher.engine.workers.held and Hold.DRAINED in run_control.holds()
        sent = len(posted(first, "txt2img")) + len(posted(second, "txt2img"))
        assert sent < IMAGES
        control.undrain("node0")
        summary = await asyncio.wait_for(task, 60)
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": IMAGES}
    _made_once(prepared, [e for e in seen + drain(events) if isinstance(e, JobDone)])
    assert len(posted(first, "txt2img")) + len(posted(second, "txt2img")) == IMAGES


async def test_a_held_run_stops_when_asked(sims):
    first, second = sims
    launcher = launcher_for(first.url, second.url)
    control = steering(launcher)
    try:
        _prepared, events, task = await _start(launcher)
        await _until(events, [], lambda e: isinstance(e, JobDone))
        control.drain("node0")
        control.drain("node1")
        await asyncio.sleep(1.0)
        launcher.engine.request_stop()
        summary = await asyncio.wait_for(task, 10)
    finally:
        await launcher.aclose()
    assert summary.stopped and summary.counts.get("queued", 0) > 0
    assert summary.counts["done"] + summary.counts["queued"] == IMAGES


async def test_a_node_added_mid_run_takes_jobs_and_stays_for_the_next_run(sims):
    first, second = sims
    launcher = launcher_for(first.url)
    control = steering(launcher)
    try:
        prepared, events, task = await _start(launcher)
        seen: list[Event] = []
        await _until(events, seen, lambda e: isinstance(e, JobDone))
        said = await control.add(second.url)
        summary = await asyncio.wait_for(task, 60)
        seen += drain(events)
        added = second.url.removeprefix("http://")
        assert said == f"{added} joined the run being made"
        assert summary.counts == {"done": IMAGES}
        done = [e for e in seen if isinstance(e, JobDone)]
        _made_once(prepared, done)
        assert any(e.node == added for e in done), "the new node made images of this run"
        assert len(posted(first, "txt2img")) + len(posted(second, "txt2img")) == IMAGES

        made_there = len(posted(second, "txt2img"))
        _prepared, _events, task = await _start(launcher, images=4)
        assert (await asyncio.wait_for(task, 60)).counts == {"done": 4}
        assert len(posted(second, "txt2img")) > made_there, "it serves the next run too"
    finally:
        await launcher.aclose()


async def test_a_node_the_config_lists_is_added_with_its_name_and_limits(sims):
    first, second = sims
    small = NodeConfig(name="small-gpu", url=second.url, max_megapixels=0.1)
    launcher = launcher_for(first.url, config=AppConfig(nodes=[small]))
    control = steering(launcher)
    try:
        prepared, events, task = await _start(launcher)
        seen: list[Event] = []
        await _until(events, seen, lambda e: isinstance(e, JobDone))
        said = await control.add(second.url + "/")
        summary = await asyncio.wait_for(task, 60)
    finally:
        await launcher.aclose()
    assert said == "small-gpu joined the run being made"
    assert summary.counts == {"done": IMAGES}
    _made_once(prepared, [e for e in seen + drain(events) if isinstance(e, JobDone)])
    assert not posted(second, "txt2img"), "its limit keeps it from 512×512 images"


async def test_adding_between_runs_waits_for_the_next_run(sims):
    first, second = sims
    launcher = launcher_for(first.url)
    try:
        said = await steering(launcher).add(second.url)
        assert said.endswith("added: it takes images from the next run on")
        assert [node.url for node in launcher.pool.nodes] == [first.url, second.url]
    finally:
        await launcher.aclose()


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


async def test_an_address_that_cannot_serve_is_refused_with_the_reason(sims):
    first, _ = sims
    launcher = launcher_for(first.url)
    control = steering(launcher)
    try:
        with pytest.raises(InputError, match=r"node URL gpu1:7860: node URL must start with"):
            await control.add("gpu1:7860")
        with pytest.raises(InputError, match="is in the pool already, as node0"):
            await control.add(first.url + "/")
        dead = _closed_port_url()
        with pytest.raises(StableNewError, match=rf"{dead} not added: reachable: cannot connect"):
            await control.add(dead)
        with pytest.raises(InputError, match="no node named 'gpu9' in this session"):
            control.drain("gpu9")
        with pytest.raises(InputError, match="no node named 'gpu9'"):
            control.undrain("gpu9")
    finally:
        await launcher.aclose()
    assert len(launcher.pool.handles) == 1, "nothing refused joined the pool"


async def test_a_node_added_with_credentials_in_its_url_never_shows_them(sims):
    first, _ = sims
    launcher = launcher_for(first.url)
    try:
        async with SimServer(speed=0, auth="ann:s3cret-pw") as guarded:
            with_credentials = guarded.url.replace("http://", "http://ann:s3cret-pw@")
            said = await steering(launcher).add(with_credentials)
            name = guarded.url.removeprefix("http://")
            assert said == f"{name} added: it takes images from the next run on"
            assert launcher.pool.nodes[1].url == guarded.url
            wrong = guarded.url.replace("http://", "http://ann:not-it@")
            with pytest.raises(StableNewError) as refused:
                await steering(launcher).add(wrong)
    finally:
        await launcher.aclose()
    assert "auth: refused: a user and password were not accepted" in str(refused.value)
    assert "s3cret-pw" not in said and "not-it" not in str(refused.value)


async def test_draining_a_node_holding_a_checkpoint_lets_the_others_make_its_jobs(tmp_path):
    """Two checkpoints, each node on its own: once one is drained, the other must not wait for
    it to make its checkpoint's jobs, but load that checkpoint and make them itself."""
    pack = tmp_path / "two.toml"
    pack.write_text(
        "prompts = [\n"
        '  { prompt = "a red barn", model = "dreamshaper_8" },\n'
        '  { prompt = "a blue barn", model = "anything-v5-PrtRE" },\n]\n'
    )
    flags = {"images_per_prompt": 6, "txt2img": {"steps": 20, "width": 512, "height": 512}}
    async with SimServer(speed=10) as first, SimServer(speed=10) as second:
        launcher = launcher_for(first.url, second.url)
        try:
            prepared = await launcher.prepare(RunRequest(pack=str(pack), flags=flags))
            events = launcher.engine.events.subscribe_queue()
            task = asyncio.create_task(launcher.engine.run(prepared.run))
            seen: list[Event] = []
            await _until(events, seen, lambda e: isinstance(e, JobDone) and e.node == "node1")
            steering(launcher).drain("node1")
            summary = await asyncio.wait_for(task, 60)
        finally:
            await launcher.aclose()
    assert summary.counts == {"done": 12}
    _made_once(prepared, [e for e in seen + drain(events) if isinstance(e, JobDone)], 12)
