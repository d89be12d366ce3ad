"""A node's finished job written while the node makes its next image.

Once a job's last image is in hand, its node has nothing more to do for it: what is left is
ours (saving the image, the manifest lines, the records, the queue's commit, each durable),
some milliseconds an image that the node would otherwise sit idle for, image after image. So
the engine writes them in a task of their own while the node's worker claims and sends the
next job. The writing starts once that claim is made (`go`): both take the queue file's write
lock, and the node should not wait behind its own last job's fsyncs. A worker that claims
nothing next (it pauses, sits out, waits for its turn) lets it start GO_SECONDS later at the
latest. At most one job per node is written behind its back: the next one waits for the last
to be written, and a worker ends only once its node's last job is.

Nothing about a job's end changes: its claim is held (and renewed) until its results are
written, through the same fenced transaction; a job whose writing fails goes back to the
queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from stablenew_tui.pipeline.jobs import Job

GO_SECONDS = 0.05


class WriteBehind:
    def __init__(self) -> None:
        self._writing: dict[str, tuple[Job, asyncio.Task[None]]] = {}  # node → its last job
        self._go: dict[str, asyncio.Event] = {}

    def start(self, node: str, job: Job, writing: Coroutine[Any, Any, None]) -> None:
        """Write `job`'s results (`writing`) while `node` goes on, from its next claim on;
        `done_writing` first."""
        if node in self._writing:
            raise RuntimeError(f"{node} is still writing {self._writing[node][0].id}")
        go = self._go[node] = asyncio.Event()
        self._writing[node] = (job, asyncio.create_task(_when(go, writing)))

    def go(self, node: str) -> None:
        """The node's next claim is made: its last job's writing may start."""
        if node in self._go:
            self._go.pop(node).set()

    def writing(self, job: Job) -> bool:
        return any(held is job for held, _ in self._writing.values())

    async def done_writing(self, node: str) -> None:
        """Wait until the node's last job is written; what writing it raised is raised here."""
        self.go(node)
        if node in self._writing:
            _, task = self._writing[node]
            try:
                await asyncio.shield(task)
            finally:
                if task.done():
                    del self._writing[node]


async def _when(go: asyncio.Event, writing: Coroutine[Any, Any, None]) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(go.wait(), GO_SECONDS)
    await writing
