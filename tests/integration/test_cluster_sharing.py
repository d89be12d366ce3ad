"""Two runs sharing one node, over real loopback HTTP and one real queue file: the node is never
sent two generation requests at once, whether the runs are made in one process or two."""

from __future__ import annotations

import asyncio
import sqlite3

from stablenew_tui.pipeline.events import NodeStatus
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import drain, launcher_for, run_to_end
from tests.integration.test_leases import queue_path
from tests.integration.test_run_cli import stablenew_async

# About a third of a second per image at speed 4.
FLAGS = {"images_per_prompt": 4, "txt2img": {"steps": 20, "width": 512, "height": 512}}


async def test_two_engines_on_one_node_take_turns():
    async with SimServer(speed=4) as shared, SimServer(speed=4) as own:
        first = launcher_for(shared.url)
        second = launcher_for(own.url, shared.url)  # also has a node of its own
        try:
            runs = [
                await first.prepare(RunRequest(prompt="a harbour", flags=FLAGS)),
                await second.prepare(RunRequest(prompt="a lighthouse", flags=FLAGS)),
            ]
            events = second.engine.events.subscribe_queue()
            summaries = await asyncio.wait_for(
                asyncio.gather(first.engine.run(runs[0].run), second.engine.run(runs[1].run)), 60
            )
        finally:
            await first.aclose()
            await second.aclose()
        assert [summary.counts for summary in summaries] == [{"done": 4}, {"done": 4}]
        assert len(shared.requests.for_path("txt2img")) >= 5, "both runs used the shared node"
        assert shared.webui.engine.most_generating == 1
    waited = [e for e in drain(events) if isinstance(e, NodeStatus) and e.state == "BUSY"]
    assert waited and waited[0].node == "node1" and waited[0].detail.startswith("in use by ")


async def test_two_processes_on_one_node_never_send_it_two_generations_at_once():
    async with SimServer(speed=4) as shared:
        args = ["--node", shared.url, "--steps", "20", "--size", "512x512"]
        processes = [
            await stablenew_async("run", *args, "--prompt", prompt, "--images-per-prompt", "4")
            for prompt in ("a harbour", "a lighthouse")
        ]
        results = await asyncio.wait_for(
            asyncio.gather(*(process.communicate() for process in processes)), 120
        )
        for process, (stdout, stderr) in zip(processes, results, strict=True):
            assert process.returncode == 0, stderr.decode()
            assert "run finished: 4 done" in stdout.decode()
        assert len(shared.requests.for_path("txt2img")) == 8
        assert shared.webui.engine.most_generating == 1


async def test_a_node_nobody_else_waits_for_is_kept_from_image_to_image():
    """Its turn is taken once for the run, not again for every image."""
    async with SimServer(speed=4) as node:
        launcher = launcher_for(node.url)
        tokens: set[str] = set()

        async def watch_turns() -> None:
            db = sqlite3.connect(queue_path())
            try:
                while True:
                    row = db.execute(
                        "SELECT token FROM node_leases WHERE url = ?", (node.url,)
                    ).fetchone()
                    if row and row[0]:
                        tokens.add(row[0])
                    await asyncio.sleep(0.02)
            finally:
                db.close()

        try:
            watching = asyncio.create_task(watch_turns())
            _, summary, _ = await run_to_end(launcher, RunRequest(prompt="a harbour", flags=FLAGS))
            watching.cancel()
        finally:
            await launcher.aclose()
    assert summary.counts == {"done": 4}
    assert len(tokens) == 1, tokens
