"""Stopping a run when a write to this machine's storage fails (see `local_failures`).

The run stops or, in an interactive session (someone is there to free space), pauses until
resumed; the job in hand goes back to the queue; why is said once per run (or per pause).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

from stablenew_tui.pipeline.events import EventStream, LocalFailure
from stablenew_tui.pipeline.jobs import Job, Run
from stablenew_tui.pipeline.local_failures import (
    LOCAL_FAILURES,
    LocalWriteError,
    local_write_error,
)
from stablenew_tui.pipeline.queue import JobQueue

log = logging.getLogger("stablenew.engine")


class Halts:
    def __init__(
        self, queue: JobQueue, events: EventStream, data_dir: Path, stopping: asyncio.Event,
        resumed: asyncio.Event,
    ) -> None:  # fmt: skip
        self.queue = queue
        self.events = events
        self.data_dir = data_dir
        self._stopping = stopping
        self._resumed = resumed
        self.hold = False  # pause rather than stop
        self.halted: LocalWriteError | None = None  # why the run stopped or paused

    async def halt(self, run: Run, error: OSError | sqlite3.Error, job: Job | None = None) -> bool:
        """After a failed write: stop the run or, when holding, pause it; put `job` back in
        the queue; then say why. Returns whether the worker goes on (once resumed)."""
        if self.hold:
            self._resumed.clear()
        else:
            self._stopping.set()
        failure = self.in_words(run, error)
        if job is not None:
            await self._put_back(job, failure.problem)
        self.report(run, failure)
        return self.hold

    def in_words(self, run: Run, error: OSError | sqlite3.Error) -> LocalWriteError:
        return local_write_error(error, run_folder=Path(run.folder), data_dir=self.data_dir)

    def report(self, run: Run, failure: LocalWriteError) -> LocalWriteError:
        """Say why the run stopped, once per run (or per pause)."""
        if self.halted is None:
            self.halted = failure
            self.events.publish(LocalFailure(run.id, failure.problem, failure.fix))
        return failure

    async def _put_back(self, job: Job, problem: str) -> None:
        """Requeue a job whose results could not be written. What it wrote stays in place
        until it is made again (manifest lines already written still match their files). A
        queue that cannot take even this write frees the job when its lease lapses or this
        process ends."""
        try:
            await asyncio.to_thread(self.queue.requeue, job, f"stopped: {problem}")
        except LOCAL_FAILURES as again:  # the failure is reported already; this follows
            log.info("job %s stays claimed until its lease lapses: %s", job.id, again)
