"""A worker waiting for its node's turn (`node_leases`) while another process uses the node.

The wait ends when the turn is ours, or when the run stops or has nothing left to make. The
node's status says who has it meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator

from stablenew_tui.pipeline.cluster import NodeHandle
from stablenew_tui.pipeline.events import EventStream, NodeStatus
from stablenew_tui.pipeline.health import RunWatch
from stablenew_tui.pipeline.node_leases import TURN_RECHECK_SECONDS, NodeBusy, NodeLeases, NodeTurn

log = logging.getLogger("stablenew.engine")


@contextlib.asynccontextmanager
async def node_turn(
    leases: NodeLeases, handle: NodeHandle, held: dict[str, NodeTurn], watch: RunWatch,
    events: EventStream,
) -> AsyncIterator[bool]:  # fmt: skip
    """Hold the node's turn inside the block (in `held`, by node name, to be renewed); the
    block is given False when the run stopped or ran out of work first."""
    url = handle.client.node.url
    turn: NodeTurn | None = None
    said = False
    while turn is None:
        try:
            turn = await asyncio.to_thread(leases.take, url)
        except NodeBusy as busy:
            if not said:
                events.publish(NodeStatus(handle.name, "BUSY", f"in use by {busy}"))
                said = True
        except sqlite3.Error as error:  # the claim that follows meets it and says so
            log.info("%s: could not take its turn: %s", handle.name, error)
            break
        if turn is None and await watch.sleep(TURN_RECHECK_SECONDS):
            yield False
            return
    if turn is None:
        yield True
        return
    held[handle.name] = turn
    try:
        yield True
    finally:
        del held[handle.name]
        try:
            await asyncio.to_thread(leases.give_back, turn)
        except sqlite3.Error as error:  # it lapses instead
            log.info("%s: could not give its turn back: %s", handle.name, error)
