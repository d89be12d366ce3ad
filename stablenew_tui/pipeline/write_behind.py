"""A node's finished job written while the node makes its next image.

Once a job's last image is in hand, its node has nothing more to do for it: what is left is
ours (decoding and saving the image, the manifest lines, the records, the queue's commit, each
durable), some milliseconds an image that the node would otherwise sit idle for, image after
image. So the engine writes them in a task of their own while the node's worker claims and
sends the next job. At most one job per node is written behind its back: the next one waits
for the last to be written, and a worker ends only once its node's last job is.

Nothing about a job's end changes: its claim is held (and renewed) until its results are
written, through the same fenced transaction; a job whose writing fails goes back to the
queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from stablenew_tui.pipeline.jobs import Job


class WriteBehind:
    def __init__(self) -> None:
        self._writing: dict[str, tuple[Job, asyncio.Task[None]]] = {}  # node → its last job

    def start(self, node: str, job: Job, writing: Coroutine[Any, Any, None]) -> None:
        """Write `job`'s results (`writing`) while `node` goes on; `done_writing` first."""
        if node in self._writing:
            raise RuntimeError(f"{node} is still writing {self._writing[node][0].id}")
        self._writing[node] = (job, asyncio.create_task(writing))

    def writing(self, job: Job) -> bool:
        return any(held is job for held, _ in self._writing.values())

    async def done_writing(self, node: str) -> None:
        """Wait until the node's last job is written; what writing it raised is raised here."""
        if node in self._writing:
            _, task = self._writing[node]
            try:
                await asyncio.shield(task)
            finally:
                if task.done():
                    del self._writing[node]
