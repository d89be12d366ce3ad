"""Interrupt, skip, pause and cancel while a real (simulated) generation is running."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from stablenew_tui.pipeline.events import Interrupted, JobSkipped, RunStarted, StageProgress
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import drain, launcher_for, manifest, posted, start_run

# About two seconds per image at speed 1: long enough to act while it runs.
SLOW = {"images_per_prompt": 3, "txt2img": {"steps": 30, "width": 512, "height": 512, "seed": 1}}


@pytest.fixture
async def slow_sim():
    async with SimServer(speed=1) as server:
        yield server


async def _start(sim, flags=SLOW):
    launcher = launcher_for(sim.url)
    prepared, events, task = await start_run(
        launcher, RunRequest(prompt="a slow lighthouse", flags=flags)
    )
    return launcher, prepared, events, task


async def _wait_for_progress(events: asyncio.Queue) -> list:
    seen = []
    while True:
        event = await asyncio.wait_for(events.get(), 30)
        seen.append(event)
        if isinstance(event, StageProgress) and event.step > 0:
            return seen


async def test_progress_reports_real_steps(slow_sim):
    launcher, _prepared, events, task = await _start(slow_sim, {**SLOW, "images_per_prompt": 1})
    try:
        seen = await _wait_for_progress(events)
        await task
    finally:
        await launcher.aclose()
    progress = [e for e in seen + drain(events) if isinstance(e, StageProgress)]
    assert progress and all(e.steps == 30 and 0 <= e.step <= 30 for e in progress)


async def test_interrupt_stops_now_and_keeps_the_job_queued(slow_sim):
    launcher, prepared, events, task = await _start(slow_sim)
    try:
        await _wait_for_progress(events)
        await launcher.engine.interrupt()
        summary = await asyncio.wait_for(task, 30)
    finally:
        await launcher.aclose()
    assert summary.stopped
    assert summary.counts == {"queued": 3}, "the interrupted job goes back to the queue"
    assert any(isinstance(e, Interrupted) for e in drain(events))
    assert not list(Path(prepared.run.folder).rglob("*.png")), "no half-made image is kept"
    assert manifest(prepared.run.folder) == []
    interrupts = [r for r in slow_sim.requests if r.path.endswith("/interrupt")]
    assert len(interrupts) == 1


async def test_skip_drops_the_current_image_and_goes_on(slow_sim):
    launcher, prepared, events, task = await _start(slow_sim)
    try:
        await _wait_for_progress(events)
        await launcher.engine.skip()
        summary = await asyncio.wait_for(task, 60)
    finally:
        await launcher.aclose()
    assert summary.counts == {"cancelled": 1, "done": 2}
    skipped = [e for e in drain(events) if isinstance(e, JobSkipped)]
    assert len(skipped) == 1 and skipped[0].index == 0
    assert len(list(Path(prepared.run.folder).rglob("*.png"))) == 2


async def test_stop_finishes_the_current_image_first(slow_sim):
    launcher, prepared, events, task = await _start(slow_sim)
    try:
        await _wait_for_progress(events)
        launcher.engine.request_stop()
        summary = await asyncio.wait_for(task, 30)
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 1, "queued": 2}
    assert len(manifest(prepared.run.folder)) == 1


async def test_pause_holds_and_resume_continues(sim):
    flags = {"images_per_prompt": 3, "txt2img": {"steps": 2, "width": 64, "height": 64}}
    launcher = launcher_for(sim.url)
    try:
        prepared = await launcher.prepare(RunRequest(prompt="x", flags=flags))
        events = launcher.engine.events.subscribe_queue()
        launcher.engine.pause()
        task = asyncio.create_task(launcher.engine.run(prepared.run))
        while not isinstance(await asyncio.wait_for(events.get(), 10), RunStarted):
            pass
        for _ in range(20):  # every worker gets its turn, and finds dispatching paused
            await asyncio.sleep(0)
        assert not task.done()
        assert launcher.queue.counts(prepared.run.id) == {"queued": 3}
        assert posted(sim, "txt2img") == []
        launcher.engine.resume()
        summary = await asyncio.wait_for(task, 30)
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 3}


async def test_cancel_all(slow_sim):
    launcher, _prepared, events, task = await _start(slow_sim)
    try:
        await _wait_for_progress(events)
        cancelled = await launcher.engine.cancel_all()
        summary = await asyncio.wait_for(task, 30)
    finally:
        await launcher.aclose()
    assert cancelled == 2
    assert summary.counts == {"cancelled": 3}
