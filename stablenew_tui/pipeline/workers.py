"""The nodes working on the run being made: one worker per node, a set that can change while
the run goes on.

- `drain(node)`: the node finishes the image it is making, then claims nothing more; its
  worker sits out until `undrain(node)` (then it claims again) or the run is over.
- `join(handle)`: a node added to the pool mid-run gets a worker at once.

The run is over when every worker has ended. A drained worker ends with the others; but when
every node still serving the run is drained and images are left, the run holds (as if paused)
until a node is undrained or added, or the run is stopped: draining every node is no reason to
give the run up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from stablenew_tui.pipeline.cluster import NodeHandle

Work = Callable[[NodeHandle], Coroutine[Any, Any, None]]


class WorkerSet:
    def __init__(self) -> None:
        self.drained: set[str] = set()  # node names; kept from run to run in the session
        self._working: set[str] = set()  # the nodes whose worker runs now
        # Resolved (and replaced) at each drain, undrain, join or worker end. A future rather
        # than an Event pulsed: a waiter takes it at once after looking, so no change made
        # between its look and its wait is missed.
        self._change: asyncio.Future[None] | None = None
        self._group: asyncio.TaskGroup | None = None
        self._work: Work | None = None

    @property
    def held(self) -> bool:
        """Whether the run waits because every node serving it is drained."""
        return bool(self._working) and self._working <= self.drained

    async def run(self, handles: list[NodeHandle], work: Work) -> None:
        """`work(handle)` for each handle, and for each node that joins meanwhile; returns
        when every one has ended. A worker's error cancels the others (their jobs go back to
        the queue) and is raised as it was."""
        self._work = work
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                for handle in handles:
                    self.join(handle)
        except BaseExceptionGroup as errors:
            raise errors.exceptions[0] from None
        finally:
            self._group = self._work = None

    def join(self, handle: NodeHandle) -> bool:
        """Give `handle` a worker in the run being made; False when no run is, or the node
        has one already."""
        if self._group is None or self._work is None or handle.name in self._working:
            return False
        self._working.add(handle.name)
        self._group.create_task(self._serve(handle, self._work))
        return True

    async def _serve(self, handle: NodeHandle, work: Work) -> None:
        try:
            await work(handle)
        finally:
            self._working.discard(handle.name)
            self._pulse()

    def drain(self, node: str) -> None:
        self.drained.add(node)
        self._pulse()

    def undrain(self, node: str) -> None:
        self.drained.discard(node)
        self._pulse()

    async def sit_out(
        self, node: str, work_left: Callable[[], bool], stopping: asyncio.Event
    ) -> bool:
        """Wait while `node` is drained. True when it is undrained (its worker claims
        again); False when its worker should end: the run is stopping, or every other worker
        has ended or sits out too and no image is left to make."""
        while node in self.drained and not stopping.is_set():
            if self.held and not work_left():
                return False
            change = self._next_change()
            stopped = asyncio.ensure_future(stopping.wait())
            try:
                await asyncio.wait((change, stopped), return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopped.cancel()
        return not stopping.is_set()

    def _next_change(self) -> asyncio.Future[None]:
        if self._change is None or self._change.done():
            self._change = asyncio.get_running_loop().create_future()
        return self._change

    def _pulse(self) -> None:
        if self._change is not None and not self._change.done():
            self._change.set_result(None)
