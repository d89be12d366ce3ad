"""Unfinished runs listed with their counts and resumed by id; a run lined up while no node
answers starts once one does. Driven without a UI, against the simulator."""

from __future__ import annotations

import asyncio
import os

from stablenew_tui.pipeline.dispatcher import RunDispatcher
from stablenew_tui.pipeline.events import RunFinished
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.services.control import RunControl
from tests.integration.pipeline_helpers import launcher_for, posted

FLAGS = {"images_per_prompt": 3, "txt2img": {"steps": 2, "width": 64, "height": 64}}


async def _finished(events: asyncio.Queue, run_id: str) -> RunFinished:
    while True:
        event = await asyncio.wait_for(events.get(), 30)
        if isinstance(event, RunFinished) and event.run_id == run_id:
            return event


async def test_unfinished_runs_are_listed_newest_first_and_one_is_resumed_by_id(sim):
    launcher = launcher_for(sim.url)
    older = await launcher.prepare(RunRequest(prompt="older", flags=FLAGS))
    newer = await launcher.prepare(RunRequest(prompt="newer", flags=FLAGS))
    launcher.queue.cancel(newer.run.id, newer.jobs[0].id)
    control = RunControl(launcher)
    serving = asyncio.create_task(control.serve())
    events = launcher.engine.events.subscribe_queue()
    try:
        listed = control.unfinished_runs()
        assert [item.run.id for item in listed] == [newer.run.id, older.run.id]
        assert (listed[0].left, listed[0].total, listed[0].counts["cancelled"]) == (2, 3, 1)
        assert listed[0].holder is None, "no process is making it"

        queued = await control.resume_run(older.run.id)
        assert queued.images == 3
        assert [item.run.id for item in control.unfinished_runs()] == [newer.run.id], (
            "a run lined up in this session is not offered again"
        )
        finished = await _finished(events, older.run.id)
    finally:
        serving.cancel()
        await launcher.aclose()
    assert finished.counts == {"done": 3}
    assert [body["prompt"] for body in posted(sim, "txt2img")] == ["older"] * 3


async def test_a_run_lined_up_while_no_node_answers_starts_when_one_does(sim):
    launcher = launcher_for(sim.url)
    ready, looks = False, 0

    def node_ready() -> bool:
        nonlocal looks
        looks += 1
        return ready

    dispatcher = RunDispatcher(launcher, node_ready)
    serving = asyncio.create_task(dispatcher.serve())
    events = launcher.engine.events.subscribe_queue()
    try:
        prepared = await launcher.prepare(RunRequest(prompt="patient", flags=FLAGS))
        dispatcher.submit(prepared.run)
        while looks < 3:  # the dispatcher has looked for a node, and looked again
            await asyncio.sleep(0.05)
        assert posted(sim, "txt2img") == [], "nothing is sent before a node is ready"
        assert launcher.queue.counts(prepared.run.id) == {"queued": 3}
        ready = True
        finished = await _finished(events, prepared.run.id)
        attempts = [job.attempts for job in launcher.queue.jobs(prepared.run.id)]
    finally:
        serving.cancel()
        await launcher.aclose()
    assert finished.counts == {"done": 3}
    assert attempts == [1, 1, 1], "no attempt spent on a node that was not there"


async def test_a_run_another_process_is_making_is_listed_with_that_process(sim):
    launcher = launcher_for(sim.url)
    try:
        prepared = await launcher.prepare(RunRequest(prompt="busy", flags=FLAGS))
        launcher.queue.take_run(prepared.run.id)  # as a live process making it does
        (listed,) = RunControl(launcher).unfinished_runs()
    finally:
        await launcher.aclose()
    assert listed.holder is not None and listed.holder.pid == os.getpid()
