"""Tail copies over loopback HTTP: an idle node makes again the job a stalled node holds; the
first result wins, and every image exists once: one file, one manifest line, one record."""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from stablenew_tui.jsonl import read_jsonl
from stablenew_tui.learning.records import RECORDS_NAME
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.events import CopyLost, CopyStarted, JobDone
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.pipeline.outputs import MANIFEST_NAME
from stablenew_tui.pipeline.speed_model import SPEEDS_NAME, SpeedBook
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import drain, launcher_for, posted

SMALL = {"steps": 2, "width": 128, "height": 128, "seed": 7}
STEPPED = {**SMALL, "steps": 40}  # a WebUI stops at a step's end: many short steps
STALL_SECONDS = 2.0  # how long the stalled node holds its job (the idle one looks each second)


def known_speeds(*more: str) -> None:
    """Both nodes (and `more`) are known to make one of these images in 50 ms."""
    book = SpeedBook.load(AppPaths.from_environment().data_dir / SPEEDS_NAME)
    for node in ("node0", "node1", *more):
        for _ in range(5):
            book.observe(node, 128 * 128 / 1e6 * 2, 0.05)
    book.save()


async def run_two_images(sims: list[SimServer], react=None, images: int = 2):
    """Two images (or `images`) over the nodes; `react(event)` sees each event as it comes."""
    launcher = launcher_for(*(sim.url for sim in sims))
    try:
        prepared = await launcher.prepare(
            RunRequest(prompt="a lighthouse", flags={"images_per_prompt": images, "txt2img": SMALL})
        )
        events = launcher.engine.events.subscribe_queue()
        watched = launcher.engine.events.subscribe_queue()

        async def watch() -> None:
            while (event := await watched.get()) is not None:
                if react:
                    react(event)

        watcher = asyncio.create_task(watch())
        summary = await launcher.engine.run(prepared.run)
        watcher.cancel()
        return prepared.run, summary, drain(events)
    finally:
        await launcher.aclose()


def each_image_once(folder: str, images: int = 2) -> dict[str, str]:
    """Job id → the node its kept image was made on, checking that every job has exactly
    one file, one manifest line (not merely one that supersedes another) and one record."""
    files = sorted(path.name for path in (Path(folder) / "txt2img").iterdir())
    lines = read_jsonl(Path(folder) / MANIFEST_NAME).objects
    records = read_jsonl(AppPaths.from_environment().data_dir / RECORDS_NAME).objects
    assert len(files) == images, files
    assert Counter(line["job_id"] for line in lines) == Counter(
        record["job_id"] for record in records
    )
    assert sorted(Counter(line["job_id"] for line in lines).values()) == [1] * images
    assert sorted(Path(line["path"]).name for line in lines) == files
    return {line["job_id"]: line["node"] for line in lines}


async def test_an_idle_node_copies_a_stalled_job_and_its_copy_wins():
    known_speeds()
    async with AsyncExitStack() as stack:
        fast, stalled = [await stack.enter_async_context(SimServer(speed=0)) for _ in range(2)]
        stalled.faults.add("hang", path="txt2img", seconds=STALL_SECONDS)
        run, summary, events = await run_two_images([fast, stalled])
        interrupted = [r for r in stalled.requests if r.path.endswith("/interrupt")]
        stalled_made = posted(stalled, "txt2img")
    assert summary.counts == {"done": 2}
    copied = [event for event in events if isinstance(event, CopyStarted)]
    assert [(event.node, event.other) for event in copied] == [("node0", "node1")]
    job = copied[0].job_id
    assert len(stalled_made) == 1, "the stalled node was making the copied job"
    assert each_image_once(run.folder)[job] == "node0", "the copy's image is the one kept"
    assert [e.node for e in events if isinstance(e, JobDone) and e.job_id == job] == ["node0"]
    assert [(e.job_id, e.node) for e in events if isinstance(e, CopyLost)] == [(job, "node1")]
    assert interrupted, "the node that lost was told to stop"


async def test_the_original_that_ends_first_wins_and_the_copy_is_discarded():
    """The stalled node comes back before the copy ends (the copy's node stalls in turn)."""
    known_speeds()
    async with AsyncExitStack() as stack:
        fast, slow = [await stack.enter_async_context(SimServer(speed=0)) for _ in range(2)]
        slow.faults.add("hang", path="txt2img", seconds=STALL_SECONDS)

        def stall_the_copy(event) -> None:
            if isinstance(event, JobDone) and event.node == "node0":  # its own image: next
                fast.faults.add("hang", path="txt2img", seconds=2 * STALL_SECONDS)

        run, summary, events = await run_two_images([fast, slow], stall_the_copy)
        copy_interrupted = [r for r in fast.requests if r.path.endswith("/interrupt")]
    assert summary.counts == {"done": 2}
    copied = [event for event in events if isinstance(event, CopyStarted)]
    assert [(event.node, event.other) for event in copied] == [("node0", "node1")]
    job = copied[0].job_id
    assert each_image_once(run.folder)[job] == "node1", "the original's image is kept"
    assert [e.node for e in events if isinstance(e, JobDone) and e.job_id == job] == ["node1"]
    assert [(e.job_id, e.node) for e in events if isinstance(e, CopyLost)] == [(job, "node0")]
    assert copy_interrupted, "the copy's node was told to stop"


async def test_a_copy_that_wins_over_a_hung_node_ends_the_run_without_waiting_for_it():
    """The hung node never answers (nor stalls out: the stall timeout is the default, minutes):
    once the copy has won, its request is given up and the run ends."""
    known_speeds()
    async with AsyncExitStack() as stack:
        fast, hung = [await stack.enter_async_context(SimServer(speed=0)) for _ in range(2)]
        hung.faults.add("hang", path="txt2img", seconds=3600)
        run, summary, events = await asyncio.wait_for(run_two_images([fast, hung]), 60)
        interrupted = [r for r in hung.requests if r.path.endswith("/interrupt")]
    assert summary.counts == {"done": 2}
    copied = [event for event in events if isinstance(event, CopyStarted)]
    job = copied[0].job_id
    assert set(each_image_once(run.folder).values()) == {"node0"}, "both made on the fast node"
    assert [(e.job_id, e.node) for e in events if isinstance(e, CopyLost)] == [(job, "node1")]
    assert interrupted, "the hung node was told to stop"


async def test_a_job_whose_node_went_down_is_not_copied_once_made_elsewhere():
    """One node drops its job and is waited for, another hangs. The dropped job went back to
    the queue and was made by the node left, so only the hung node's job is copied."""
    known_speeds("node2")
    async with AsyncExitStack() as stack:
        # The node left is slower than all are known to be: the dropped job looks overdue by
        # the time there is nothing left to claim, had it not been given up.
        up = await stack.enter_async_context(SimServer(speed=0.05))
        down, hung = [await stack.enter_async_context(SimServer(speed=0)) for _ in range(2)]
        down.faults.add("down", path="txt2img", seconds=30)
        hung.faults.add("hang", path="txt2img", seconds=3600)
        run, summary, events = await asyncio.wait_for(
            run_two_images([up, down, hung], images=3), 30
        )
    assert summary.counts == {"done": 3}
    assert set(each_image_once(run.folder, images=3).values()) == {"node0"}
    copied = [(event.node, event.other) for event in events if isinstance(event, CopyStarted)]
    assert copied == [("node0", "node2")]


def _posted_after(sim: SimServer, first: str, then: str) -> bool:
    """Whether `sim` received a POST to `then` after one to `first`."""
    paths = [r.path for r in sim.requests if r.method == "POST"]
    ends = [n for n, path in enumerate(paths) if path.endswith("/" + first)]
    return bool(ends) and any(path.endswith("/" + then) for path in paths[ends[-1] :])


@pytest.mark.parametrize("action", ["interrupt", "skip", "cancel_all"])
async def test_interrupt_skip_and_cancel_all_also_stop_the_copy(action):
    """Both nodes are slow: the original far past its estimate, its copy under way on the
    idle node when the job is stopped. The copy's node is told to stop too, at once."""
    known_speeds()
    async with AsyncExitStack() as stack:
        idle, slow = [await stack.enter_async_context(SimServer(speed=0)) for _ in range(2)]
        slow.speed = 0.01  # 0.4 s a step, 16 s an image: far past the second it is known for
        launcher = launcher_for(idle.url, slow.url)
        stack.push_async_callback(launcher.aclose)
        prepared = await launcher.prepare(
            RunRequest(prompt="a lighthouse", flags={"images_per_prompt": 2, "txt2img": STEPPED})
        )
        events = launcher.engine.events.subscribe_queue()
        task = asyncio.create_task(launcher.engine.run(prepared.run))
        seen = []
        while not seen or not isinstance(seen[-1], CopyStarted):
            seen.append(event := await asyncio.wait_for(events.get(), 30))
            if isinstance(event, JobDone):  # the idle node's own image: its copy will be slow
                idle.speed = 0.01
        while len(posted(idle, "txt2img")) < 2:  # the copy asked for
            await asyncio.sleep(0.02)
        await getattr(launcher.engine, action)()
        summary = await asyncio.wait_for(task, 5)  # neither node goes on to its image's end
        seen += drain(events)
    copied = next(event for event in seen if isinstance(event, CopyStarted))
    assert (copied.node, copied.other) == ("node0", "node1")
    assert _posted_after(idle, "txt2img", "interrupt"), "the copy's node was told to stop"
    assert [(e.job_id, e.node) for e in seen if isinstance(e, CopyLost)] == [
        (copied.job_id, "node0")
    ]
    assert [e.node for e in seen if isinstance(e, JobDone)] == ["node0"], "only the first"
    lines = read_jsonl(Path(prepared.run.folder) / MANIFEST_NAME).objects
    assert [line["node"] for line in lines] == ["node0"]
    assert len(list((Path(prepared.run.folder) / "txt2img").iterdir())) == 1
    assert copied.job_id not in {line["job_id"] for line in lines}
    assert summary.counts.get("done") == 1
