"""Scripted failures: the ways a real WebUI node lets its clients down.

Each fault answers the next `count` requests whose path matches, then disappears. Kinds:

- `fail`: a 500 with the flavor's error body (a crash inside the server);
- `oom`: a 500 whose text says "CUDA out of memory", as torch reports it;
- `drop`: the connection closes without any response;
- `hang`: the request is accepted and not answered until the fault is cleared or `seconds` pass
  (then it is served normally, if the client is still there);
- `down`: the connection closes and the server refuses connections for `seconds`, then comes
  back with the same state (models, options, request log).

A fault without a path matches every /sdapi/v1 route except progress, interrupt and skip, which
clients poll beside a running job. A path is a glob over the request path; without a leading "/"
it is relative to /sdapi/v1/ ("txt2img", "extra-*").

Thread-safe: the server loop consumes faults while a test or a CLI thread arms them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

API_PREFIX = "/sdapi/v1/"
POLLING_ROUTES = frozenset(API_PREFIX + name for name in ("progress", "interrupt", "skip"))

OOM_ERROR_CLASS = "OutOfMemoryError"
OOM_MESSAGE = (
    "CUDA out of memory. Tried to allocate 2.25 GiB. GPU 0 has a total capacity of 11.99 GiB "
    "of which 1.03 GiB is free. Of the allocated memory 9.31 GiB is allocated by PyTorch, and "
    "622.54 MiB is reserved by PyTorch but unallocated. If reserved but unallocated memory is "
    "large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation."
    "  See documentation for Memory Management  "
    "(https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)"
)
FAIL_ERROR_CLASS = "RuntimeError"
FAIL_MESSAGE = "Simulated server failure"


class FaultKind(StrEnum):
    FAIL = "fail"
    OOM = "oom"
    DROP = "drop"
    HANG = "hang"
    DOWN = "down"


@dataclass
class Fault:
    kind: FaultKind
    remaining: int
    path: str | None = None
    seconds: float | None = None  # hang: how long (None = until cleared); down: outage length
    status: int = 500  # fail only
    message: str | None = None  # fail only; FAIL_MESSAGE when None

    def matches(self, path: str) -> bool:
        if self.path is None:
            return path.startswith(API_PREFIX) and path not in POLLING_ROUTES
        pattern = self.path if self.path.startswith("/") else API_PREFIX + self.path
        return fnmatchcase(path, pattern)

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"kind": self.kind.value}


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release_hangs = asyncio.Event()
        self._go_down: Callable[[float], None] | None = None
        self._come_back: Callable[[], None] | None = None

    def attach(
        self,
        loop: asyncio.AbstractEventLoop,
        go_down: Callable[[float], None],
        come_back: Callable[[], None],
    ) -> None:
        """Called by the server once it runs: outages need its sockets and its loop."""
        self._loop, self._go_down, self._come_back = loop, go_down, come_back

    # -- arming -------------------------------------------------------------------------------

    def add(
        self,
        kind: FaultKind | str,
        count: int = 1,
        *,
        path: str | None = None,
        seconds: float | None = None,
        status: int = 500,
        message: str | None = None,
    ) -> Fault:
        kind = FaultKind(kind)
        if count < 1:
            raise ValueError("count must be at least 1")
        if seconds is not None and seconds < 0:
            raise ValueError("seconds must not be negative")
        if kind is FaultKind.DOWN and seconds is None:
            raise ValueError("a down fault needs seconds")
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        fault = Fault(kind, count, path, seconds, status, message)
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail_next(
        self,
        count: int = 1,
        *,
        path: str | None = None,
        status: int = 500,
        message: str | None = None,
    ) -> Fault:
        return self.add(FaultKind.FAIL, count, path=path, status=status, message=message)

    def oom_next(self, count: int = 1, *, path: str | None = None) -> Fault:
        return self.add(FaultKind.OOM, count, path=path)

    def drop_next(self, count: int = 1, *, path: str | None = None) -> Fault:
        return self.add(FaultKind.DROP, count, path=path)

    def hang_next(
        self, count: int = 1, *, path: str | None = None, seconds: float | None = None
    ) -> Fault:
        return self.add(FaultKind.HANG, count, path=path, seconds=seconds)

    def down_next(self, seconds: float, *, path: str | None = None) -> Fault:
        """The next matching request loses its connection and the server stays down `seconds`."""
        return self.add(FaultKind.DOWN, 1, path=path, seconds=seconds)

    def down_now(self, seconds: float) -> None:
        """Stop listening right away for `seconds`; open connections are closed."""
        if self._go_down is None:
            raise RuntimeError("the server is not running")
        go_down = self._go_down
        self._in_loop(lambda: go_down(seconds))

    def clear(self) -> None:
        """Forget armed faults, let hanging requests through and end an outage early."""
        with self._lock:
            self._faults.clear()
            released, self._release_hangs = self._release_hangs, asyncio.Event()
        self._in_loop(released.set)
        if self._come_back is not None:
            self._in_loop(self._come_back)

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(**asdict(fault)) for fault in self._faults]

    # -- used by the server -------------------------------------------------------------------

    def take(self, path: str) -> Fault | None:
        """Consume one use of the oldest fault matching `path`."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    async def hold(self, seconds: float | None) -> None:
        """Wait out a hang: until `clear()` or for `seconds`."""
        with self._lock:
            release = self._release_hangs
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), seconds)

    def _in_loop(self, action: Callable[[], None]) -> None:
        """Run `action` in the server's loop and wait for it, so that when a fault call returns
        its effect is in place, whichever thread made it."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self._loop is None or running is self._loop or self._loop.is_closed():
            action()
            return
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            try:
                action()
            except BaseException as error:
                done.set_exception(error)
            else:
                done.set_result(None)

        self._loop.call_soon_threadsafe(run)
        done.result(timeout=10)
