"""A worker waiting for its node's turn (`node_leases`) while another process uses the node.

The wait ends when the turn is ours, or when the run stops or has nothing left to make. The
node's status says who has it meanwhile.

The turn is given back on every way out, a cancelled task included (an app torn down, Ctrl-C),
even one taken as the task was cancelled (`to_the_end`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3
from collections.abc import AsyncIterator

from stablenew_tui.pipeline.cluster import NodeHandle
from stablenew_tui.pipeline.events import EventStream, NodeStatus
from stablenew_tui.pipeline.health import RunWatch
from stablenew_tui.pipeline.node_leases import TURN_RECHECK_SECONDS, NodeBusy, NodeLeases, NodeTurn
from stablenew_tui.pipeline.to_the_end import to_the_end

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
            turn = await to_the_end(functools.partial(leases.take, url), undo=leases.give_back)
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
        await _give_back(leases, turn)


async def _give_back(leases: NodeLeases, turn: NodeTurn) -> None:
    try:
        await to_the_end(functools.partial(leases.give_back, turn))
    except sqlite3.Error as error:  # it lapses instead
        log.info("%s: could not give its turn back: %s", turn.url, error)
