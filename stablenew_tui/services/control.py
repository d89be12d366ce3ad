"""Starting and steering runs: the same verbs behind the TUI's keys and the CLI's flags and
Ctrl-C.

An interactive session queues runs (`queue_run`, `resume_run`) that `serve` runs one after
another; `stablenew run` runs one prepared run to its end (`run`). Every verb names the run it
acts on by id, so a caller never reaches into the engine, the queue or the dispatcher.

With a node monitor (an interactive session), a run asked for while no node answers waits for
one and then starts, in the order asked: people often start the app while the WebUI boots.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from stablenew_tui.pipeline.dispatcher import RunDispatcher
from stablenew_tui.pipeline.holders import Holder
from stablenew_tui.pipeline.jobs import Job, Run
from stablenew_tui.pipeline.launch import PreparedRun, RunLauncher, RunRequest
from stablenew_tui.pipeline.monitor import NodeMonitor
from stablenew_tui.pipeline.refine import RefineRequest
from stablenew_tui.pipeline.run_end import RunSummary
from stablenew_tui.webui.errors import WebUITimedOut, WebUIUnavailable

# A node the monitor still shows as answering failed to: look again after this long.
REPLAN_SECONDS = 1.0


class Hold(StrEnum):
    """What keeps images from being made now, as a status line says it."""

    STOPPING = "STOPPING"
    WAITING = "WAITING FOR NODE"
    DRAINED = "ALL NODES DRAINED"
    PAUSED = "PAUSED"


@dataclass(frozen=True)
class QueuedRun:
    run: Run
    images: int
    ahead: int  # runs queued before it in this session
    warnings: tuple[str, ...] = ()  # what its preset or pack asks for that cannot be done


@dataclass(frozen=True)
class UnfinishedRun:
    run: Run
    counts: dict[str, int]  # its jobs by status
    holder: Holder | None  # the process making it now, if one is

    @property
    def left(self) -> int:
        return self.counts.get("queued", 0) + self.counts.get("running", 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class RunControl:
    def __init__(self, launcher: RunLauncher, monitor: NodeMonitor | None = None) -> None:
        self.launcher = launcher
        self._engine = launcher.engine
        self._queue = launcher.queue
        self._monitor = monitor
        self._dispatcher = RunDispatcher(launcher, self._node_ready)
        self._in_order = asyncio.Lock()  # runs asked for start in the order asked
        self._cancels = 0  # how often `cancel_all` ran: it drops the runs waiting for a node
        self._waiting: list[int] = []  # per run waiting to be lined up: `_cancels` when asked
        self._stopping: Run | None = None  # the run asked to stop, until it has

    # -- starting ------------------------------------------------------------------------

    async def serve(self) -> None:
        """Run queued runs one after another until cancelled (interactive sessions)."""
        await self._dispatcher.serve()

    async def queue_run(self, request: RunRequest) -> QueuedRun | None:
        """Plan `request` into the queue and line it up behind the runs already waiting.
        Planning checks names against a node's catalog, so while no node answers this waits
        for one; None when `cancel_all` dropped the run while it waited."""
        asked = self._cancels
        self._waiting.append(asked)
        try:
            async with self._in_order:
                while True:
                    if not await self._node_answers(asked):
                        return None
                    try:
                        prepared = await self.launcher.prepare(request)
                        break
                    except (WebUIUnavailable, WebUITimedOut):
                        if self._monitor is None:
                            raise
                        await asyncio.sleep(REPLAN_SECONDS)  # until the monitor sees it too
                ahead = self._dispatcher.submit(prepared.run)
        finally:
            self._waiting.remove(asked)
        return QueuedRun(prepared.run, len(prepared.jobs), ahead, tuple(prepared.warnings))

    async def unfinished_run(
        self, ref: str | None = None, *, retry_failed: bool = False
    ) -> PreparedRun:
        """The run `ref` names (its id or folder), else the last with images still to make;
        with `retry_failed`, its failed images are queued again first (and, without `ref`,
        the last run with failed ones will do). `InputError` when there is nothing to make."""
        return await self.launcher.resume(ref, retry_failed=retry_failed)

    async def queue_refine(self, request: RefineRequest) -> QueuedRun:
        """Plan a run that sends existing images on through img2img and/or upscale."""
        return self._submit(await self.launcher.prepare_refine(request))

    async def queue_again(self, job_id: str, seed: int) -> QueuedRun:
        """Make one job's image again with its run's settings and `seed`."""
        return self._submit(await self.launcher.prepare_again(job_id, seed))

    def _submit(self, prepared: PreparedRun) -> QueuedRun:
        ahead = self._dispatcher.submit(prepared.run)
        return QueuedRun(prepared.run, len(prepared.jobs), ahead, tuple(prepared.warnings))

    def unfinished_runs(self) -> list[UnfinishedRun]:
        """Runs with images still to make that this session has not lined up, newest first:
        left by an earlier session, interrupted, or being made by another process."""
        lined_up = {*self._dispatcher.queued, *(run.id for run in [self.running] if run)}
        return [
            UnfinishedRun(run, counts, holder)
            for run, counts, holder in self._queue.unfinished_runs()
            if run.id not in lined_up
        ]

    async def resume_run(self, run_id: str | None = None) -> QueuedRun | None:
        """Line up the run `run_id` (by default the last unfinished one) again, with the
        images it still has to make, once a node answers; None when `cancel_all` dropped it
        while it waited."""
        prepared = await self.unfinished_run(run_id)
        asked = self._cancels
        self._waiting.append(asked)
        try:
            async with self._in_order:
                if not await self._node_answers(asked):
                    return None
                ahead = self._dispatcher.submit(prepared.run)
        finally:
            self._waiting.remove(asked)
        remaining = self._queue.counts(prepared.run.id).get("queued", 0)
        return QueuedRun(prepared.run, remaining, ahead)

    def _node_ready(self) -> bool:
        return self._monitor is None or self._monitor.ready

    async def _node_answers(self, asked: int) -> bool:
        """Wait until some node answers; False when `cancel_all` ran since `asked`."""
        if self._monitor is not None:
            await self._monitor.until_ready()
        return self._cancels == asked

    async def run(self, run: Run, *, wait: bool = False) -> RunSummary:
        """Run `run` now, to its end or until stopped (the CLI). Raises RunBusy when another
        live process is making it, unless `wait`: then after that process."""
        return await self._engine.run(run, wait=wait)

    # -- steering ------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self._engine.paused

    def toggle_pause(self) -> bool:
        """Pause (the image being made finishes, then nothing starts) or resume; returns
        whether dispatching is paused now."""
        if self._engine.paused:
            self._engine.resume()
        else:
            self._engine.pause()
        return self._engine.paused

    async def skip(self) -> None:
        """Drop the images being made and go on with the next jobs."""
        await self._engine.skip()

    async def interrupt(self) -> None:
        """Stop the images being made now; their jobs go back to the queue, and `resume_run`
        makes them."""
        self._stopping = self.running
        await self._engine.interrupt()

    def stop_after_current(self) -> None:
        """Finish the images being made, then stop."""
        self._stopping = self.running
        self._engine.request_stop()

    async def cancel_all(self) -> int:
        """Cancel every queued job of the running run, interrupt the running ones and drop
        the runs waiting for a node; returns how many queued jobs were cancelled."""
        self._cancels += 1
        self._stopping = self.running
        return await self._engine.cancel_all()

    def cancel_job(self, run_id: str, job_id: str) -> bool:
        """Cancel one queued job; False when it is no longer queued."""
        return self._queue.cancel(run_id, job_id) > 0

    def requeue_failed(self, run_id: str) -> int:
        """Queue a run's failed jobs again, and the run itself unless it is running now;
        returns how many jobs were queued again."""
        count = self._queue.requeue_failed(run_id)
        current = self._dispatcher.current
        run = self._queue.run(run_id)
        if count and run is not None and (current is None or current.id != run_id):
            self._dispatcher.submit(run)
        return count

    def run_next(self, job_id: str) -> None:
        """Make a queued job the next one claimed."""
        self._queue.move_to_front(job_id)

    # -- looking -------------------------------------------------------------------------

    @property
    def running(self) -> Run | None:
        """The queued run being run now, in an interactive session."""
        return self._dispatcher.current

    @property
    def waiting_runs(self) -> int:
        """Runs asked for that wait for a node before they are lined up."""
        return self._waiting.count(self._cancels)

    def holds(self) -> list[Hold]:
        """What keeps images from being made now (an interactive session), most urgent first."""
        holds = []
        running = self.running
        if running is not None and self._stopping is running:
            holds.append(Hold.STOPPING)
        work = running is not None or self.waiting_runs or self._dispatcher.queued
        if work and self._monitor is not None and not self._monitor.ready:
            holds.append(Hold.WAITING)
        if self._engine.workers.held:
            holds.append(Hold.DRAINED)
        if self.paused:
            holds.append(Hold.PAUSED)
        return holds

    def run_of(self, run_id: str) -> Run | None:
        return self._queue.run(run_id)

    def jobs(self, run_id: str) -> list[Job]:
        return self._queue.jobs(run_id)
