"""A run whose task is cancelled (the TUI torn down, Ctrl-C) gives back every lease it holds,
whenever the cancel lands: the next run on that node in the same process, on the same queue
file, reaches the node at once instead of waiting for the lease to lapse (a minute)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Coroutine
from typing import Any

import pytest

from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.events import StageProgress
from stablenew_tui.pipeline.health import RunWatch
from stablenew_tui.pipeline.launch import QUEUE_NAME, RunRequest
from stablenew_tui.pipeline.node_turns import node_turn
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import launcher_for, posted

# About four seconds an image at speed 1: the cancel lands while one is being made.
SLOW = {"images_per_prompt": 2, "txt2img": {"steps": 60, "width": 512, "height": 512}}
QUICK = {"images_per_prompt": 1, "txt2img": {"steps": 2, "width": 64, "height": 64}}


async def _cancel_mid_image(launcher, sim: SimServer) -> None:
    prepared = await launcher.prepare(RunRequest(prompt="a slow lighthouse", flags=SLOW))
    events = launcher.engine.events.subscribe_queue()
    task = asyncio.create_task(launcher.engine.run(prepared.run))
    while True:
        event = await asyncio.wait_for(events.get(), 30)
        if isinstance(event, StageProgress) and event.step > 0:
            break
    assert len(posted(sim, "txt2img")) == 1
    task.cancel()
    # The app closes its queue at once, before the cancelled task has had a turn to unwind.
    await launcher.aclose()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_run_cancelled_mid_image_leaves_its_node_free_for_the_next():
    async with SimServer(speed=1) as sim:
        await _cancel_mid_image(launcher_for(sim.url), sim)
        second = launcher_for(sim.url)  # the same queue file, opened again
        try:
            prepared = await second.prepare(RunRequest(prompt="a quick fox", flags=QUICK))
            summary = await asyncio.wait_for(second.engine.run(prepared.run), 10)
        finally:
            await second.aclose()
    assert summary.counts == {"done": 1}
    assert len(posted(sim, "txt2img")) == 2, "the cancelled image, then the next run's"


async def _cancel_while_the_queue_file_is_busy(work: Coroutine[Any, Any, object]) -> None:
    """Run `work` while another process writes to the queue file, cancel it as it waits for
    that write to end, then let the write end: what `work` was doing goes through."""
    other = sqlite3.connect(AppPaths.from_environment().data_dir / QUEUE_NAME, timeout=30)
    try:
        other.execute("BEGIN IMMEDIATE")
        task = asyncio.create_task(work)
        await asyncio.sleep(0.3)
        task.cancel()
        await asyncio.sleep(0.1)
        other.execute("ROLLBACK")
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        other.close()


async def test_a_turn_taken_as_its_task_is_cancelled_is_given_back(sim):
    launcher = launcher_for(sim.url)
    handle, leases = launcher.pool.handles[0], launcher.queue.nodes
    watch = RunWatch(asyncio.Event(), launcher.queue, "no run")
    entered = asyncio.Event()

    async def take_the_turn() -> None:
        async with node_turn(leases, handle, {}, watch, launcher.engine.events):
            entered.set()

    try:
        await _cancel_while_the_queue_file_is_busy(take_the_turn())
        assert not entered.is_set()
        leases.give_back(leases.take(sim.url))  # free now, not once its lease lapses
    finally:
        await launcher.aclose()


async def test_a_job_claimed_as_its_task_is_cancelled_goes_back_to_the_queue(sim):
    launcher = launcher_for(sim.url)
    try:
        prepared = await launcher.prepare(RunRequest(prompt="a quick fox", flags=QUICK))
        scheduler, handle = launcher.engine.scheduler, launcher.pool.handles[0]
        await scheduler.start(prepared.run, [handle])
        await _cancel_while_the_queue_file_is_busy(scheduler.claim(prepared.run, handle, ()))
        # Claims are made one at a time: this one follows the cancelled one's.
        assert await scheduler.claim(prepared.run, handle, ()) is not None, "back in the queue"
    finally:
        await launcher.aclose()
