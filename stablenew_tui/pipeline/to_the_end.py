"""Writes to the queue file that a cancelled task sees through to their end.

A lease is taken or given back in a thread, so the event loop never waits on the disk. When
the task awaiting it is cancelled (an app torn down, Ctrl-C), the thread goes on all the same:
a lease it took would stay held by this live process until it lapsed, keeping this process's
next run, and every other process, off that node or job meanwhile. So the task waits for the
thread to end, through any cancellation, and then undoes what it did before ending as
cancelled.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import TypeVar

from stablenew_tui.pipeline.local_failures import LOCAL_FAILURES

log = logging.getLogger("stablenew.engine")

T = TypeVar("T")


async def to_the_end(call: Callable[[], T], undo: Callable[[T], object] | None = None) -> T:
    """`call()` in a thread, waited for to its end even when this task is cancelled meanwhile
    (a write to the queue file is short: at most its busy timeout). Cancelled, the task then
    runs `undo(result)` (when the call succeeded) the same way and raises CancelledError."""
    future = asyncio.ensure_future(asyncio.to_thread(call))
    cancelled = False
    while not future.done():
        try:
            await asyncio.wait((future,))
        except asyncio.CancelledError:
            cancelled = True
    if not cancelled:
        return future.result()
    if undo is not None and future.exception() is None:
        try:
            await to_the_end(functools.partial(undo, future.result()))
        except LOCAL_FAILURES as error:  # what it took lapses instead
            log.info("%s after a cancel failed: %s", getattr(undo, "__name__", "undo"), error)
        except asyncio.CancelledError:
            pass  # cancelled once more while undoing: it was undone all the same
    raise asyncio.CancelledError
