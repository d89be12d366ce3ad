"""Watches every node: DISCONNECTED → CONNECTING → READY ⇄ BUSY, and back when it goes away.

Publishes a `NodeStatus` event whenever what a user would see changes (state, server, loaded
model). Reconnecting is automatic, with a backoff capped low enough that a WebUI that comes up
is noticed within seconds. Nothing here blocks: an app stays usable while no node answers.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum

from stablenew_tui.pipeline.cluster import NodeHandle, NodePool
from stablenew_tui.pipeline.events import EventStream, NodeStatus
from stablenew_tui.webui.client import WebUIClient
from stablenew_tui.webui.errors import WebUIError

MAX_RECONNECT_DELAY = 4.0


class NodeState(StrEnum):
    DISCONNECTED = "DISCONNECTED"
    CONNECTING = "CONNECTING"
    READY = "READY"
    BUSY = "BUSY"


async def activity(client: WebUIClient) -> tuple[NodeState, str]:
    """Whether the node is generating now (BUSY) or not (READY), and the checkpoint it holds.
    Raises WebUIError when it does not answer."""
    model = await client.current_model() or ""
    progress = await client.progress()
    return (NodeState.BUSY if progress.busy else NodeState.READY), model


class NodeMonitor:
    def __init__(self, pool: NodePool, events: EventStream, *, interval: float = 1.0) -> None:
        self.pool = pool
        self.events = events
        self.interval = interval
        self.status: dict[str, NodeStatus] = {
            handle.name: NodeStatus(handle.name, NodeState.DISCONNECTED) for handle in pool.handles
        }
        self._ready = asyncio.Event()  # set while some node is READY or BUSY
        self._watching: asyncio.TaskGroup | None = None

    @property
    def ready(self) -> bool:
        """Whether some node answers (READY or BUSY)."""
        return self._ready.is_set()

    async def until_ready(self) -> None:
        """Return once some node answers."""
        await self._ready.wait()

    async def run(self) -> None:
        """Watch until cancelled, and every node added meanwhile (`watch`) too."""
        async with asyncio.TaskGroup() as watching:
            self._watching = watching
            for handle in self.pool.handles:
                self.watch(handle)

    def watch(self, handle: NodeHandle) -> None:
        """Watch a node that joined the pool; before `run`, it is watched from the start."""
        self.status.setdefault(handle.name, NodeStatus(handle.name, NodeState.DISCONNECTED))
        if self._watching is not None:
            self._watching.create_task(self._watch(handle))

    async def _watch(self, handle: NodeHandle) -> None:
        delay = 0.25
        while True:
            self._set(handle, NodeState.CONNECTING)
            try:
                server = await handle.client.server_info(refresh=True)
                while True:
                    state, model = await activity(handle.client)
                    self._set(handle, state, server=server.describe(), model=model)
                    delay = 0.25
                    await asyncio.sleep(self.interval)
            except WebUIError as error:
                self._set(handle, NodeState.DISCONNECTED, detail=error.message)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RECONNECT_DELAY)

    def _set(
        self, handle: NodeHandle, state: NodeState, *, detail: str = "", server: str = "",
        model: str = "",
    ) -> None:  # fmt: skip
        previous = self.status[handle.name]
        if state is NodeState.CONNECTING and previous.state == NodeState.DISCONNECTED:
            server, detail = previous.server, previous.detail  # keep what the user last saw
        status = NodeStatus(handle.name, state, detail, server or previous.server, model)
        if status != previous:
            self.status[handle.name] = status
            self.events.publish(status)
            up = (NodeState.READY, NodeState.BUSY)
            if any(node.state in up for node in self.status.values()):
                self._ready.set()
            else:
                self._ready.clear()
