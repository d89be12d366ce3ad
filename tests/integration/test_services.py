"""The verbs the TUI's keys and the CLI share, driven without any UI against the simulator:
what the queue holds and the server received afterwards, and the result rows they make."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from stablenew_tui.learning.ratings import RatingStore
from stablenew_tui.learning.records import RecordsFollower
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.events import RunFinished
from stablenew_tui.pipeline.launch import RunLauncher, RunRequest
from stablenew_tui.services.control import RunControl
from stablenew_tui.services.results import ResultsFeed
from tests.integration.pipeline_helpers import launcher_for, posted

FLAGS = {"images_per_prompt": 3, "txt2img": {"steps": 2, "width": 64, "height": 64}}


async def _finished(events: asyncio.Queue, run_id: str) -> RunFinished:
    while True:
        event = await asyncio.wait_for(events.get(), 30)
        if isinstance(event, RunFinished) and event.run_id == run_id:
            return event


async def _serving(launcher: RunLauncher):
    control = RunControl(launcher)
    return control, asyncio.create_task(control.serve())


async def test_requeue_failed_runs_the_failed_images_again(sim):
    sim.faults.oom_next(1, path="txt2img")
    launcher = launcher_for(sim.url)
    control, serving = await _serving(launcher)
    events = launcher.engine.events.subscribe_queue()
    try:
        queued = await control.queue_run(RunRequest(prompt="again", flags=FLAGS))
        assert (queued.images, queued.ahead) == (3, 0)
        first = await _finished(events, queued.run.id)
        assert first.counts == {"done": 2, "failed": 1}
        assert control.requeue_failed(queued.run.id) == 1
        second = await _finished(events, queued.run.id)
    finally:
        serving.cancel()
        await launcher.aclose()
    assert second.counts == {"done": 3}
    assert len(posted(sim, "txt2img")) == 4


async def test_a_queued_job_cancelled_and_another_run_next(sim):
    launcher = launcher_for(sim.url)
    control = RunControl(launcher)
    try:
        prepared = await launcher.prepare(RunRequest(prompt="steered", flags=FLAGS))
        first, second, third = prepared.jobs
        assert control.cancel_job(prepared.run.id, second.id)
        assert not control.cancel_job(prepared.run.id, second.id), "no longer queued"
        control.run_next(third.id)
        summary = await control.run(prepared.run)
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 2, "cancelled": 1}
    assert [body["seed"] for body in posted(sim, "txt2img")] == [third.seed, first.seed]


async def test_resume_run_lines_up_what_an_interrupted_run_left(sim):
    launcher = launcher_for(sim.url)
    control, serving = await _serving(launcher)
    events = launcher.engine.events.subscribe_queue()
    try:
        prepared = await launcher.prepare(RunRequest(prompt="resumed", flags=FLAGS))
        # As if a run stopped after one image.
        launcher.queue.finish(launcher.queue.claim(prepared.run.id, "earlier"), "done")
        assert control.toggle_pause() is True and control.paused
        resumed = await control.resume_run()
        assert (resumed.run.id, resumed.images, resumed.ahead) == (prepared.run.id, 2, 0)
        assert control.toggle_pause() is False
        finished = await _finished(events, prepared.run.id)
    finally:
        serving.cancel()
        await launcher.aclose()
    assert finished.counts == {"done": 3}
    assert len(posted(sim, "txt2img")) == 2


async def test_result_rows_come_from_the_records_once_each_with_their_rating(sim):
    data_dir = AppPaths.from_environment().data_dir
    feed = ResultsFeed(
        RecordsFollower(data_dir / "records.jsonl"), RatingStore(data_dir / "ratings.jsonl")
    )
    flags = {**FLAGS, "stages": ["txt2img", "upscale"], "upscale": {"scale": 2.0}}
    launcher = launcher_for(sim.url)
    control = RunControl(launcher)
    try:
        prepared = await launcher.prepare(RunRequest(prompt="rows", flags=flags))
        await control.run(prepared.run)
    finally:
        await launcher.aclose()
    rows = feed.new_rows()
    assert [(row.job_id, row.seed) for row in rows] == [(j.id, j.seed) for j in prepared.jobs]
    assert all(row.stage == "upscale" and Path(row.path).parent.name == "upscale" for row in rows)
    assert all(row.prompt == "rows" and row.model and row.run_id == prepared.run.id for row in rows)
    feed.rate(rows[0], 4)
    assert feed.new_rows() == [], "only what was recorded since the last look"

    again = ResultsFeed(RecordsFollower(data_dir / "records.jsonl"), feed.ratings)
    assert [row.rating for row in again.new_rows(limit=2)] == [None, None]
    assert [row.rating for row in ResultsFeed(again.records, feed.ratings).new_rows()] == [
        4,
        None,
        None,
    ]


async def test_runs_asked_for_while_no_node_answers_start_in_order_once_one_is_ready():
    from stablenew_tui.pipeline.monitor import NodeMonitor
    from stablenew_tui.services.control import Hold
    from stablenew_tui.sim import SimServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    launcher = launcher_for(f"http://127.0.0.1:{port}")
    monitor = NodeMonitor(launcher.pool, launcher.engine.events, interval=0.2)
    control = RunControl(launcher, monitor)
    tasks = [asyncio.create_task(control.serve()), asyncio.create_task(monitor.run())]
    events = launcher.engine.events.subscribe_queue()
    try:
        dropped = asyncio.create_task(control.queue_run(RunRequest(prompt="dropped", flags=FLAGS)))
        await _until(lambda: control.waiting_runs == 1)
        assert await control.cancel_all() == 0
        assert control.waiting_runs == 0, "cancel all drops the runs waiting for a node"
        first = asyncio.create_task(control.queue_run(RunRequest(prompt="first", flags=FLAGS)))
        second = asyncio.create_task(control.queue_run(RunRequest(prompt="second", flags=FLAGS)))
        await _until(lambda: control.waiting_runs == 2)
        assert control.holds() == [Hold.WAITING]
        async with SimServer(speed=0, port=port) as sim:
            queued = [await asyncio.wait_for(task, 30) for task in (first, second)]
            await _finished(events, queued[1].run.id)
            assert await dropped is None
    finally:
        for task in tasks:
            task.cancel()
        await launcher.aclose()
    assert [q.ahead for q in queued] == [0, 1]
    prompts = [body["prompt"] for body in posted(sim, "txt2img")]
    assert prompts == ["first"] * 3 + ["second"] * 3, "in the order asked; the dropped never"


async def _until(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)
