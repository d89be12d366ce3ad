"""Node health over real loopback HTTP with several simulators: a node failing job after job is
taken out and probed until it answers, a job failing on two nodes is set aside, out of memory
keeps a node from that size only."""

from __future__ import annotations

import asyncio

from stablenew_tui.pipeline.events import JobFailed, NodeStatus
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import drain, launcher_for, manifest, posted


def sized(images: int, steps: int = 2, side: int = 64) -> dict:
    return {"images_per_prompt": images, "txt2img": {"steps": steps, "width": side, "height": side}}


async def run_all(launcher, request: RunRequest, within: float = 60):
    """Plan and run; returns (prepared run, summary, every event)."""
    prepared = await launcher.prepare(request)
    events = launcher.engine.events.subscribe_queue()
    summary = await asyncio.wait_for(launcher.engine.run(prepared.run), within)
    return prepared, summary, drain(events)


def statuses(events, node: str) -> list[NodeStatus]:
    return [e for e in events if isinstance(e, NodeStatus) and e.node == node]


async def test_a_node_failing_three_jobs_in_a_row_is_taken_out_then_back_when_it_answers():
    # node0 drops its next three generations (a driver crash it restarts from) and answers
    # every probe; node1 makes an image in about a quarter of a second.
    async with SimServer(speed=0) as flaky, SimServer(speed=4) as steady:
        flaky.faults.drop_next(3, path="txt2img")
        launcher = launcher_for(flaky.url, steady.url)
        try:
            request = RunRequest(prompt="a lighthouse", flags=sized(24, steps=20, side=512))
            prepared, summary, events = await run_all(launcher, request)
        finally:
            await launcher.aclose()
        flaky_seeds = [body["seed"] for body in posted(flaky, "txt2img")]
    assert summary.counts == {"done": 24}
    details = [status.detail for status in statuses(events, "node0")]
    out = [d for d in details if d.startswith("out of the run after 3 failed jobs in a row")]
    assert len(out) == 1, details
    assert "connection dropped during txt2img" in out[0] and "probing again in 2 s" in out[0]
    assert "back in the run: it answers again" in details
    lines = manifest(prepared.run.folder)
    assert sorted(line["index"] for line in lines) == list(range(24))
    made_by_flaky = [line for line in lines if line["node"] == "node0"]
    assert made_by_flaky, "back in the run, it made images again"
    dropped = flaky_seeds[:3]
    assert not {line["seed"] for line in made_by_flaky} & set(dropped), (
        "a job that failed on a node is made by another while there is one"
    )


async def test_a_job_failing_on_two_nodes_is_set_aside_with_both_reasons():
    async with SimServer(speed=0) as first, SimServer(speed=0) as second:
        first.faults.drop_next(100, path="txt2img")
        second.faults.fail_next(100, path="txt2img", status=503, message="busy")
        launcher = launcher_for(first.url, second.url)
        try:
            request = RunRequest(prompt="a cursed prompt", flags=sized(1))
            _, summary, events = await run_all(launcher, request)
        finally:
            await launcher.aclose()
        sent = len(posted(first, "txt2img")) + len(posted(second, "txt2img"))
    assert summary.counts == {"failed": 1}
    final = [e for e in events if isinstance(e, JobFailed) and not e.will_retry]
    (failure,) = final
    assert failure.reason.startswith("failed on 2 nodes, set aside: "), failure.reason
    assert "on node0: connection dropped during txt2img" in failure.reason
    assert "on node1: txt2img rejected (503): RuntimeError: busy" in failure.reason
    assert sent == 2, "tried once on each node, not again and again"


async def test_a_node_out_of_memory_claims_no_job_that_large_again_and_others_make_them():
    async with SimServer(speed=0) as small_gpu, SimServer(speed=0) as big_gpu:
        small_gpu.faults.oom_next(1, path="txt2img")
        launcher = launcher_for(small_gpu.url, big_gpu.url)
        try:
            request = RunRequest(prompt="a cathedral", flags=sized(6, side=512))
            prepared, summary, _ = await run_all(launcher, request)
        finally:
            await launcher.aclose()
        assert len(posted(small_gpu, "txt2img")) == 1, "after running out, it claimed no more"
        assert len(posted(big_gpu, "txt2img")) == 6
    assert summary.counts == {"done": 6}
    assert {line["node"] for line in manifest(prepared.run.folder)} == {"node1"}


async def test_a_job_out_of_memory_on_every_node_fails_naming_each():
    async with SimServer(speed=0) as first, SimServer(speed=0) as second:
        first.faults.oom_next(1, path="txt2img")
        second.faults.oom_next(1, path="txt2img")
        launcher = launcher_for(first.url, second.url)
        try:
            request = RunRequest(prompt="a cathedral", flags=sized(1, side=512))
            _, summary, events = await run_all(launcher, request)
        finally:
            await launcher.aclose()
    assert summary.counts == {"failed": 1}
    (failure,) = [e for e in events if isinstance(e, JobFailed) and not e.will_retry]
    assert failure.reason.startswith("failed on 2 nodes, set aside: on node")
    assert failure.reason.count("CUDA out of memory") == 2
