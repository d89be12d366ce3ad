"""A worker waiting for its node's turn (`node_leases`) while another process uses the node.

The wait ends when the turn is ours, or when the run stops or has nothing left to make. The
node's status says who has it meanwhile.

The turn is given back on every way out, a cancelled task included (an app torn down, Ctrl-C):
a take or give-back under way in a thread is waited for to its end, so a turn taken as the
task was cancelled is given back too. A turn left held by a live process would keep its
other runs (and any other process) off the node until the lease lapsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from stablenew_tui.pipeline.cluster import NodeHandle
from stablenew_tui.pipeline.events import EventStream, NodeStatus
from stablenew_tui.pipeline.health import RunWatch
from stablenew_tui.pipeline.node_leases import TURN_RECHECK_SECONDS, NodeBusy, NodeLeases, NodeTurn

log = logging.getLogger("stablenew.engine")

T = TypeVar("T")


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
            turn = await _take(leases, url)
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


async def _take(leases: NodeLeases, url: str) -> NodeTurn:
    taking = _in_thread(leases.take, url)
    if not await _outlast_cancels(taking):
        return taking.result()
    with contextlib.suppress(NodeBusy, sqlite3.Error):
        await _give_back(leases, taking.result())  # taken as the task was cancelled
    raise asyncio.CancelledError


async def _give_back(leases: NodeLeases, turn: NodeTurn) -> None:
    giving = _in_thread(leases.give_back, turn)
    cancelled = await _outlast_cancels(giving)
    try:
        giving.result()
    except sqlite3.Error as error:  # it lapses instead
        log.info("%s: could not give its turn back: %s", turn.url, error)
    if cancelled:
        raise asyncio.CancelledError


def _in_thread(call: Callable[..., T], *args: object) -> asyncio.Future[T]:
    return asyncio.ensure_future(asyncio.to_thread(call, *args))


async def _outlast_cancels(future: asyncio.Future[T]) -> bool:
    """Wait for `future` to end, even through cancellations of this task (a write to the
    queue file is short: at most its busy timeout); returns whether the task was cancelled
    meanwhile, for the caller to undo what the call did and then end as cancelled."""
    cancelled = False
    while not future.done():
        try:
            await asyncio.wait((future,))
        except asyncio.CancelledError:
            cancelled = True
    return cancelled
