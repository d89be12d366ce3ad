"""The pipeline engine: takes a run's jobs from the queue and runs them on the node pool.

One worker per node claims jobs one at a time (the WebUI serializes generation anyway).
Control, from the TUI or the CLI's Ctrl-C:
- `request_stop`: finish the images being made, then stop;
- `interrupt`: stop the images being made now; their jobs go back to the queue;
- `skip`: drop the images being made and go on with the next jobs;
- `pause` / `resume`: hold dispatching (the queue records it, so other processes see it);
- `cancel_all`: cancel every queued job and interrupt the running ones;
- `workers`: drain or undrain a node, or give a node added mid-run a worker (`workers`).
Nothing is lost on the way: a job is done, failed (with its reason and whatever earlier
stages produced), cancelled, or back in the queue. What a job's error from its node leads to
is the retry policy's call (`trouble`). A failed write to this machine's storage (a full disk)
is no job's fault: the job goes back to the queue and the run stops, or, in an interactive
session, pauses until resumed (`halts`, `local_failures`).

A run is made by one process at a time, under the run's lease; each job under its own (see
`queue` and `leases`). Results are written inside the transaction that completes the job, in
a thread, so they never block the event loop and a process whose lease was taken over
writes nothing; a job's last results are written while its node makes the next image
(`write_behind`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stablenew_tui.learning.records import RecordWriter
from stablenew_tui.pipeline.cluster import NodeHandle, NodePool, tell
from stablenew_tui.pipeline.events import (
    EventStream,
    Interrupted,
    JobSkipped,
    RunFinished,
    RunStarted,
)
from stablenew_tui.pipeline.halts import Halts
from stablenew_tui.pipeline.holders import Holder
from stablenew_tui.pipeline.job_runner import JobRunner
from stablenew_tui.pipeline.jobs import Job, Run
from stablenew_tui.pipeline.leases import LeaseKeeper, take_run
from stablenew_tui.pipeline.local_failures import LOCAL_FAILURES
from stablenew_tui.pipeline.node_turns import node_turn
from stablenew_tui.pipeline.outcomes import JobOutcomes
from stablenew_tui.pipeline.outputs import RunOutputs
from stablenew_tui.pipeline.progress import MadeElsewhere, ProgressPoller
from stablenew_tui.pipeline.queue import STOPPED_WHILE_RUNNING, JobQueue, LeaseLost
from stablenew_tui.pipeline.refine import SourceImageError
from stablenew_tui.pipeline.run_end import RunSummary, remember, summarize
from stablenew_tui.pipeline.scheduler import Scheduler
from stablenew_tui.pipeline.speed_model import SPEEDS_NAME, SpeedBook
from stablenew_tui.pipeline.tail import TailCopies
from stablenew_tui.pipeline.trouble import RetryPolicy, policy_for
from stablenew_tui.pipeline.video_stage import make_run_video
from stablenew_tui.pipeline.workers import WorkerSet
from stablenew_tui.pipeline.write_behind import WriteBehind
from stablenew_tui.webui.errors import WebUIError

log = logging.getLogger("stablenew.engine")


@dataclass
class EngineOptions:
    poll_interval: float = 0.5
    previews: bool = False
    ffmpeg: Path | None = None  # None: PATH, then the ffmpeg installed with the package


class Engine:
    def __init__(
        self,
        queue: JobQueue,
        pool: NodePool,
        records: RecordWriter,
        data_dir: Path,
        *,
        events: EventStream | None = None,
        options: EngineOptions | None = None,
    ) -> None:
        self.queue = queue
        self.pool = pool
        self.records = records
        self.data_dir = data_dir
        self.events = events or EventStream()
        self.options = options or EngineOptions()
        preview_dir = data_dir / "previews" if self.options.previews else None
        self.poller = ProgressPoller(
            self.events, interval=self.options.poll_interval, preview_dir=preview_dir
        )
        self.outcomes = JobOutcomes(queue, self.events, records)
        self._policy: RetryPolicy  # one per run
        self.scheduler = Scheduler(queue, SpeedBook.load(data_dir / SPEEDS_NAME), self.events)
        self.tail = TailCopies(self.scheduler, self.outcomes, self.poller, pool)
        self._running: dict[NodeHandle, Job] = {}  # node → job in progress there
        self._stopping = asyncio.Event()
        self._interrupted: set[str] = set()  # job ids
        self._skipped: set[str] = set()
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._run: Run | None = None
        self._making: asyncio.Task[Any] | None = None  # the task making a run now
        self._taken_over_by = ""
        self.halts = Halts(queue, self.events, data_dir, self._stopping, self._resumed)
        self.workers = WorkerSet()
        self.behind = WriteBehind()

    # -- control -------------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stopping.set()
        self._resumed.set()

    async def interrupt(self) -> None:
        self.request_stop()
        await self._signal_running(self._interrupted, "interrupt")

    async def skip(self) -> None:
        await self._signal_running(self._skipped, "skip")

    def pause(self) -> None:
        self._record_paused(True)
        self._resumed.clear()

    def resume(self) -> None:
        self.halts.halted = None  # a pause after a failed write ends when the user resumes
        self._record_paused(False)
        self._resumed.set()

    async def cancel_all(self) -> int:
        cancelled = self.queue.cancel(self._run.id) if self._run else 0
        await self._signal_running(self._skipped, "interrupt")
        if self.paused:
            self.resume()  # nothing is left to hold: the run ends now, not once resumed
        return cancelled

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    def _record_paused(self, paused: bool) -> None:
        """The queue records a pause so other processes see it; a disk that cannot take the
        write leaves this process paused (or not) all the same."""
        if self._run is None:
            return
        try:
            self.queue.set_paused(self._run.id, paused)
        except LOCAL_FAILURES as error:
            log.warning("could not record run %s as paused=%s: %s", self._run.id, paused, error)

    async def _signal_running(self, marks: set[str], action: str) -> None:
        """`action` the jobs being made: on their nodes, and on those making copies of them."""
        for handle, job in list(self._running.items()):
            marks.add(job.id)
            await self.tail.drop_copy(job.id)
            await tell(handle, action)

    # -- running -------------------------------------------------------------------------

    async def run(
        self, run: Run, *, wait: bool = False, hold_on_local_failure: bool = False
    ) -> RunSummary:
        """Make the run's remaining jobs. Raises RunBusy when another live process is making
        it, unless `wait`: then wait for that process to end or vanish first. When a write to
        this machine's storage fails, the run stops (`RunSummary.halted` says why) or, with
        `hold_on_local_failure` (someone is there to free space), pauses until resumed."""
        self._making = asyncio.current_task()
        try:
            return await self._run_to_end(run, wait, hold_on_local_failure)
        finally:
            self._making = None

    async def wind_down(self) -> None:
        """Before the queue closes: end the run being made in another task (an app torn down
        cancels that task, and its leases are given back as it unwinds: wait for that)."""
        task = self._making
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait((task,))

    async def _run_to_end(self, run: Run, wait: bool, hold_on_local_failure: bool) -> RunSummary:
        self._stopping.clear()
        self._taken_over_by = ""
        self.halts.halted = None
        self.halts.hold = hold_on_local_failure
        self._policy = policy_for(run, self.outcomes, self.events, self._stopping, self.pool.nodes)
        try:
            lease = await take_run(self.queue, run, self.events, self._stopping if wait else None)
        except LOCAL_FAILURES as error:
            raise self.halts.report(run, self.halts.in_words(run, error)) from None
        self._run = run
        async with LeaseKeeper(self.queue, lease, self._run_taken_over).keeping() as keeper:
            try:
                if run.paused:
                    self.queue.set_paused(run.id, False)
                await self._make(run, keeper)
            except LOCAL_FAILURES as error:
                self.halts.report(run, self.halts.in_words(run, error))
            finally:
                await self.scheduler.save()
            counts = self.queue.counts(run.id)
            # The process that took the run over writes its own; a full disk has said enough.
            if not self._taken_over_by and self.halts.halted is None:
                await asyncio.to_thread(summarize, run, self.data_dir)
        if self.halts.halted is None:  # else the disk refused a write: one message says so
            remember(self.queue, run, self.data_dir)
        stopped = self._stopping.is_set()
        halted = str(self.halts.halted) if self.halts.halted else ""
        summary = RunSummary(run.id, run.folder, counts, stopped, self._taken_over_by, halted)
        self.events.publish(
            RunFinished(run.id, run.folder, summary.counts, summary.stopped, summary.taken_over_by)
        )
        return summary

    async def _make(self, run: Run, keeper: LeaseKeeper) -> None:
        counts = self.queue.counts(run.id)
        remaining = counts.get("queued", 0) + counts.get("running", 0)
        self.events.publish(RunStarted(run.id, run.folder, sum(counts.values()), remaining))
        outputs = RunOutputs(Path(run.folder))
        await self.scheduler.start(run, self.pool.handles)
        work = functools.partial(self._worker, run, outputs=outputs, keeper=keeper)
        await self.workers.run(list(self.pool.handles), work)
        counts = self.queue.counts(run.id)
        all_ended = not (self._stopping.is_set() or counts.get("queued") or counts.get("running"))
        if all_ended and counts.get("done") and run.settings.enabled("video"):
            await make_run_video(run, self.events, self.records, self.options.ffmpeg)

    def _run_taken_over(self, holder: Holder | None) -> None:
        """Our lease on the run lapsed (this process was stalled) and another process took
        it: claim nothing more; the jobs in progress end only if still ours."""
        self._stopping.set()
        self._taken_over_by = holder.describe() if holder else "another process"

    async def _worker(
        self, run: Run, handle: NodeHandle, outputs: RunOutputs, keeper: LeaseKeeper
    ) -> None:
        self._policy.health.serve(handle.client.node)
        try:
            while not self._stopping.is_set():
                if not self._resumed.is_set():
                    await self._resumed.wait()
                    continue
                if handle.name in self.workers.drained:
                    self.scheduler.leave(handle.name)  # others stop counting on it
                    left = self._policy.watch.work_left
                    if not await self.workers.sit_out(handle.name, left, self._stopping):
                        return
                    continue
                turns, watch = keeper.turns, self._policy.watch
                async with node_turn(self.queue.nodes, handle, turns, watch, self.events) as ours:
                    if not ours or not await self._jobs_in_turn(run, handle, outputs, keeper):
                        return
        finally:
            await self.behind.done_writing(handle.name)
            self._policy.health.serving.discard(handle.name)
            self.scheduler.leave(handle.name)

    async def _jobs_in_turn(
        self, run: Run, handle: NodeHandle, outputs: RunOutputs, keeper: LeaseKeeper
    ) -> bool:
        """Make jobs on the node while its turn lasts: until the run stops, pauses or
        drains the node, or another process waits for the node (taking the turn again for
        each image would cost the node two more writes to the queue file an image). Returns
        whether the node goes on."""
        turn = keeper.turns.get(handle.name)
        while await self._claim_and_make(run, handle, outputs, keeper):
            if self._stopping.is_set() or not self._resumed.is_set():
                return True
            if handle.name in self.workers.drained:
                return True
            if turn is not None and self.queue.nodes.wanted(turn):
                return True
        return False

    async def _claim_and_make(
        self, run: Run, handle: NodeHandle, outputs: RunOutputs, keeper: LeaseKeeper
    ) -> bool:
        """Claim the next job this node may make and make it; returns whether the node goes
        on."""
        unfit = self._policy.health.passed_over(handle.name)
        pulses = self._policy.watch.pulses
        try:
            job = await self.scheduler.claim(run, handle, unfit)
        except LOCAL_FAILURES as error:
            return await self.halts.halt(run, error)
        finally:
            self.behind.go(handle.name)
        if job is None:
            copied = await self.tail.make_copy(run, handle, outputs, unfit)
            return copied or await self._wait_for_others(run, keeper, handle.name, pulses)
        keeper.hold(job)
        try:
            return await self._execute(run, job, handle, outputs, keeper)
        except LOCAL_FAILURES as error:
            return await self.halts.halt(run, error, job)
        finally:
            if not self.behind.writing(job):  # else it is released once written
                keeper.release(job)
            self.scheduler.ended(run, handle.name)
            self._policy.watch.pulse()

    async def _wait_for_others(self, run: Run, keeper: LeaseKeeper, node: str, pulses: int) -> bool:
        """Nothing to claim here, but a job may yet come back to the queue: one another node
        of this process holds (making it, or settling its error: it may suit this node), or
        one under a lease no process here holds (its holder may have died: wait for the lease
        to lapse). Or the scheduler holds the node back while others make what is left. False
        when there is no such job. A job that ended since the claim (`pulses` then) may have
        gone back to the queue: look again."""
        if self._policy.watch.pulses != pulses:
            return True
        lapse = None if keeper.held else self.queue.next_lapse(run.id, ())
        waits_here = bool(keeper.held) or self.scheduler.holding_back(node)
        return await self._policy.watch.for_others(waits_here, lapse)

    async def _execute(
        self, run: Run, job: Job, handle: NodeHandle, outputs: RunOutputs, keeper: LeaseKeeper
    ) -> bool:
        """Run one job; returns whether this worker should take another."""
        runner = JobRunner(
            run, job, handle, outputs, self.events, self.poller,
            fence=functools.partial(self.queue.fenced, job),
            stopped=lambda: job.id in self._interrupted or job.id in self._skipped
            or keeper.taken_over(job),
        )  # fmt: skip
        if await self._policy.refused(runner):
            return True
        self._running[handle] = job
        try:
            try:
                await runner.execute()
            finally:
                self._running.pop(handle, None)
        except asyncio.CancelledError:
            with contextlib.suppress(*LOCAL_FAILURES):
                self.queue.requeue(job, STOPPED_WHILE_RUNNING)
            raise
        except (LeaseLost, MadeElsewhere):
            self.outcomes.taken_over(runner)
            return True
        except SourceImageError as error:
            await self.outcomes.fail(runner, str(error))
            return True
        except WebUIError as error:
            self.scheduler.ended(run, handle.name)  # not making it, even while its node is awaited
            return await self._policy.handle(runner, error)
        except LOCAL_FAILURES:
            raise  # not the job's fault: the worker stops the run
        except Exception as error:  # a bug must cost one job, never the run
            log.exception("job %s failed unexpectedly", job.id)
            await self.outcomes.fail(runner, f"internal error: {type(error).__name__}: {error}")
            return True
        if keeper.taken_over(job):  # it stopped short: the job is another claim's now
            self.outcomes.taken_over(runner)
            return True
        return await self._finish(runner, keeper)

    async def _finish(self, runner: JobRunner, keeper: LeaseKeeper) -> bool:
        job, node = runner.job, runner.handle.name
        self._policy.ended(job.id, node)
        settle = self.outcomes.settle
        if job.id in self._interrupted:
            self._interrupted.discard(job.id)
            if await settle(runner, self.queue.requeue, "interrupted", before=runner.discard):
                self.events.publish(Interrupted(job.id, job.index, node))
            return False
        if job.id in self._skipped:
            self._skipped.discard(job.id)
            finish = self.queue.finish
            if await settle(runner, finish, "cancelled", "skipped", before=runner.discard):
                self.events.publish(JobSkipped(job.id, job.index, node))
            return True
        self.scheduler.job_made(runner)  # before the node's next claim
        await self.behind.done_writing(node)
        self.behind.start(node, job, self._write(runner, keeper))
        return True

    async def _write(self, runner: JobRunner, keeper: LeaseKeeper) -> None:
        """Write a made job's results and end it done (while its node makes the next)."""
        job = runner.job
        try:
            await runner.keep()
            await self.outcomes.done(runner)
            await self.tail.drop_copy(job.id)  # the first result won
            await self.scheduler.save_now_and_then()
        except LeaseLost:  # the fence found it taken over
            self.outcomes.taken_over(runner)
        except LOCAL_FAILURES as error:
            await self.halts.halt(runner.run, error, job)
        finally:
            keeper.release(job)
            self._policy.watch.pulse()
