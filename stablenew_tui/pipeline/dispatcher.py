"""Runs queued from an interactive session execute one after another, in the order queued.

The TUI queues a run with each Ctrl+R while earlier ones are still going; the dispatcher hands
them to the engine one at a time, so a node never gets two generation requests at once. A run
another process is making (a headless `stablenew run --resume`) is waited for, not joined.
Someone is at the keyboard, so a run whose writes fail (a full disk) pauses until resumed
instead of stopping.
A run queued while no node answers (the WebUI still starting, or down) waits until one does:
started without one, its jobs would spend their attempts on a node that is not there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from stablenew_tui.pipeline.holders import RunBusy
from stablenew_tui.pipeline.jobs import Run
from stablenew_tui.pipeline.launch import RunLauncher
from stablenew_tui.pipeline.local_failures import LocalWriteError

log = logging.getLogger("stablenew.dispatcher")
NODE_WAIT_SECONDS = 0.25  # how often a run waiting for a node looks again


class RunDispatcher:
    def __init__(
        self, launcher: RunLauncher, node_ready: Callable[[], bool] = lambda: True
    ) -> None:
        self.launcher = launcher
        self.node_ready = node_ready  # whether some node answers now
        self._pending: asyncio.Queue[Run] = asyncio.Queue()
        self.current: Run | None = None
        self.queued: list[str] = []  # ids of the runs waiting their turn, in order

    def submit(self, run: Run) -> int:
        """Queue a planned run; returns how many runs are ahead of it."""
        ahead = self._pending.qsize() + (1 if self.current else 0)
        self._pending.put_nowait(run)
        self.queued.append(run.id)
        return ahead

    async def serve(self) -> None:
        """Run queued runs until cancelled."""
        while True:
            run = await self._pending.get()
            self.current = run
            self.queued.remove(run.id)
            try:
                while not self.node_ready():
                    await asyncio.sleep(NODE_WAIT_SECONDS)
                await self.launcher.engine.run(run, wait=True, hold_on_local_failure=True)
            except (RunBusy, LocalWriteError):
                pass  # stopped while waiting for the process making it, or the disk: shown
            except Exception:  # the engine reports job failures itself; this is a bug guard
                log.exception("run %s stopped unexpectedly", run.id)
            finally:
                self.current = None
