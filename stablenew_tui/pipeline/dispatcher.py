"""Runs queued from an interactive session execute one after another, in the order queued.

The TUI queues a run with each Ctrl+R while earlier ones are still going; the dispatcher hands
them to the engine one at a time, so a node never gets two generation requests at once. A run
another process is making (a headless `stablenew run --resume`) is waited for, not joined.
Someone is at the keyboard, so a run whose writes fail (a full disk) pauses until resumed
instead of stopping.
"""

from __future__ import annotations

import asyncio
import logging

from stablenew_tui.pipeline.holders import RunBusy
from stablenew_tui.pipeline.jobs import Run
from stablenew_tui.pipeline.launch import RunLauncher
from stablenew_tui.pipeline.local_failures import LocalWriteError

log = logging.getLogger("stablenew.dispatcher")


class RunDispatcher:
    def __init__(self, launcher: RunLauncher) -> None:
        self.launcher = launcher
        self._pending: asyncio.Queue[Run] = asyncio.Queue()
        self.current: Run | None = None

    def submit(self, run: Run) -> int:
        """Queue a planned run; returns how many runs are ahead of it."""
        ahead = self._pending.qsize() + (1 if self.current else 0)
        self._pending.put_nowait(run)
        return ahead

    @property
    def waiting(self) -> int:
        return self._pending.qsize()

    async def serve(self) -> None:
        """Run queued runs until cancelled."""
        while True:
            run = await self._pending.get()
            self.current = run
            try:
                await self.launcher.engine.run(run, wait=True, hold_on_local_failure=True)
            except (RunBusy, LocalWriteError):
                pass  # stopped while waiting for the process making it, or the disk: shown
            except Exception:  # the engine reports job failures itself; this is a bug guard
                log.exception("run %s stopped unexpectedly", run.id)
            finally:
                self.current = None
