"""A job's results written while its node makes the next image, over real loopback HTTP and a
real queue file: the node does not wait for our writes, and nothing is lost when no next
image follows."""

from __future__ import annotations

import asyncio

from stablenew_tui.pipeline.events import JobDone, StageStarted
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import (
    launcher_for,
    manifest,
    next_event,
    run_to_end,
    start_run,
)

FLAGS = {"images_per_prompt": 4, "txt2img": {"steps": 2, "width": 64, "height": 64}}


async def test_the_next_image_is_under_way_before_the_last_ones_results_are_written(sim):
    launcher = launcher_for(sim.url)
    try:
        prepared, summary, events = await run_to_end(
            launcher, RunRequest(prompt="a harbour", flags=FLAGS)
        )
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 4}
    order = [
        (type(event).__name__, event.index)
        for event in events
        if isinstance(event, StageStarted | JobDone)
    ]
    overlapped = [
        index
        for index in range(3)
        if order.index(("StageStarted", index + 1)) < order.index(("JobDone", index))
    ]
    assert overlapped, order
    lines = manifest(prepared.run.folder)
    assert sorted(line["index"] for line in lines) == [0, 1, 2, 3]


async def test_a_paused_nodes_last_image_is_written_all_the_same():
    slow = {"images_per_prompt": 3, "txt2img": {"steps": 8, "width": 512, "height": 512}}
    async with SimServer(speed=4) as sim:
        launcher = launcher_for(sim.url)
        try:
            request = RunRequest(prompt="a harbour", flags=slow)
            prepared, events, making = await start_run(launcher, request)
            await next_event(events, StageStarted)
            launcher.engine.pause()  # no next claim follows the image under way
            await next_event(events, JobDone)
            assert launcher.queue.counts(prepared.run.id) == {"done": 1, "queued": 2}
            assert not making.done()
            launcher.engine.resume()
            summary = await asyncio.wait_for(making, 30)
        finally:
            await launcher.aclose()
    assert summary.counts == {"done": 3}
