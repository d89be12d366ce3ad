"""The pipeline engine: takes a run's jobs from the queue and runs them on the node pool.

One worker per node claims jobs one at a time (the WebUI serializes generation anyway).
Control, from the TUI or the CLI's Ctrl-C:
- `request_stop`: finish the images being made, then stop;
- `interrupt`: stop the images being made now; their jobs go back to the queue;
- `skip`: drop the images being made and go on with the next jobs;
- `pause` / `resume`: hold dispatching (the queue records it, so other processes see it);
- `cancel_all`: cancel every queued job and interrupt the running ones.
Nothing is lost on the way: a job is done, failed (with its reason and whatever earlier
stages produced), cancelled, or back in the queue.

A run is made by one process at a time, under the run's lease; each job under its own (see
`queue` and `leases`). Results are written inside the transaction that completes the job, in
a thread, so they never block the event loop and a process whose lease was taken over
writes nothing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from stablenew_tui.learning.records import RecordWriter
from stablenew_tui.pipeline.cluster import NodeHandle, NodePool
from stablenew_tui.pipeline.events import (
    EventStream,
    Interrupted,
    JobDone,
    JobFailed,
    JobSkipped,
    NodeStatus,
    RunFinished,
    RunStarted,
    RunWaiting,
)
from stablenew_tui.pipeline.holders import Holder, RunBusy
from stablenew_tui.pipeline.job_runner import JobRunner
from stablenew_tui.pipeline.jobs import Job, Run, job_id
from stablenew_tui.pipeline.lastrun import LAST_RUN_NAME, save_last_run
from stablenew_tui.pipeline.leases import LeaseKeeper
from stablenew_tui.pipeline.outputs import RunOutputs
from stablenew_tui.pipeline.progress import ProgressPoller
from stablenew_tui.pipeline.queue import JobQueue, LeaseLost, RunLease
from stablenew_tui.pipeline.refine import SourceImageError
from stablenew_tui.pipeline.video_stage import make_run_video
from stablenew_tui.webui.errors import (
    WebUIError,
    WebUITimedOut,
    WebUIUnauthorized,
    WebUIUnavailable,
)

log = logging.getLogger("stablenew.engine")
# How often a process waiting for a run, or for a job stranded under a vanished holder's
# lease, looks again.
RECHECK_SECONDS = 1.0


@dataclass
class RunSummary:
    run_id: str
    folder: str
    counts: dict[str, int] = field(default_factory=dict)
    stopped: bool = False
    taken_over_by: str = ""

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)

    @property
    def unfinished(self) -> int:
        return self.counts.get("queued", 0) + self.counts.get("running", 0)


@dataclass
class EngineOptions:
    max_attempts: int = 3  # for transient failures (node unreachable, timed out)
    node_down_grace: float = 60.0  # how long a worker waits for its node to come back
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
        self._running: dict[str, Job] = {}  # node name → job in progress there
        self._stop = False
        self._interrupted: set[str] = set()  # job ids
        self._skipped: set[str] = set()
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._run: Run | None = None
        self._taken_over_by = ""

    # -- control -------------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stop = True
        self._resumed.set()

    async def interrupt(self) -> None:
        self._stop = True
        self._resumed.set()
        await self._signal_running(self._interrupted, "interrupt")

    async def skip(self) -> None:
        await self._signal_running(self._skipped, "skip")

    def pause(self) -> None:
        if self._run:
            self.queue.set_paused(self._run.id, True)
        self._resumed.clear()

    def resume(self) -> None:
        if self._run:
            self.queue.set_paused(self._run.id, False)
        self._resumed.set()

    async def cancel_all(self) -> int:
        cancelled = self.queue.cancel(self._run.id) if self._run else 0
        await self._signal_running(self._skipped, "interrupt")
        return cancelled

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    async def _signal_running(self, marks: set[str], action: str) -> None:
        for node, job in list(self._running.items()):
            marks.add(job.id)
            handle = next(h for h in self.pool.handles if h.name == node)
            try:
                await getattr(handle.client, action)()
            except WebUIError as error:
                log.warning("%s could not %s: %s", node, action, error)

    # -- running -------------------------------------------------------------------------

    async def run(self, run: Run, *, wait: bool = False) -> RunSummary:
        """Make the run's remaining jobs. Raises RunBusy when another live process is making
        it, unless `wait`: then wait for that process to end or vanish first."""
        self._stop = False
        self._taken_over_by = ""
        lease = await self._take(run, wait)
        self._run = run
        async with LeaseKeeper(self.queue, lease, self._run_taken_over).keeping() as keeper:
            if run.paused:
                self.queue.set_paused(run.id, False)
            counts = self.queue.counts(run.id)
            remaining = counts.get("queued", 0) + counts.get("running", 0)
            self.events.publish(RunStarted(run.id, run.folder, sum(counts.values()), remaining))
            outputs = RunOutputs(Path(run.folder))
            await asyncio.gather(
                *(self._worker(run, handle, outputs, keeper) for handle in self.pool.handles)
            )
            counts = self.queue.counts(run.id)
            ended = not self._stop and not counts.get("queued") and not counts.get("running")
            if ended and counts.get("done") and run.settings.enabled("video"):
                await make_run_video(run, self.events, self.records, self.options.ffmpeg)
        self._remember(run)
        summary = RunSummary(run.id, run.folder, counts, self._stop, self._taken_over_by)
        self.events.publish(
            RunFinished(run.id, run.folder, summary.counts, summary.stopped, summary.taken_over_by)
        )
        return summary

    def _remember(self, run: Run) -> None:
        """Save the run's settings and first prompt as the last run, however it ended. A seed
        drawn at random stays -1 in the settings, so it is never remembered as fixed. A run
        that refined existing images leaves it alone: the next run from prompts starts warm."""
        first = self.queue.job(job_id(run.id, 0))
        if first is None or first.spec.image is not None:
            return
        spec = first.spec
        prompt = spec.template if spec.template is not None else spec.prompt
        save_last_run(self.data_dir / LAST_RUN_NAME, run.settings, prompt, spec.negative)

    async def _take(self, run: Run, wait: bool) -> RunLease:
        waiting = False
        while True:
            try:
                return self.queue.take_run(run.id)
            except RunBusy as busy:
                if not wait or self._stop:
                    raise
                if not waiting:
                    self.events.publish(RunWaiting(run.id, busy.holder.describe()))
                    waiting = True
            await asyncio.sleep(min(RECHECK_SECONDS, self.queue.lease_seconds / 3))

    def _run_taken_over(self, holder: Holder | None) -> None:
        """Our lease on the run lapsed (this process was stalled) and another process took
        it: claim nothing more; the jobs in progress end only if still ours."""
        self._stop = True
        self._taken_over_by = holder.describe() if holder else "another process"

    async def _worker(
        self, run: Run, handle: NodeHandle, outputs: RunOutputs, keeper: LeaseKeeper
    ) -> None:
        while not self._stop:
            if not self._resumed.is_set():
                await self._resumed.wait()
                continue
            # In a thread: a claim waits for any write another worker is making to the disk.
            job = await asyncio.to_thread(self.queue.claim, run.id, handle.name)
            if job is None:
                if await self._wait_for_stranded(run, keeper):
                    continue
                return
            keeper.hold(job)
            try:
                keep_going = await self._execute(run, job, handle, outputs, keeper)
            finally:
                keeper.release(job)
            if not keep_going:
                return

    async def _wait_for_stranded(self, run: Run, keeper: LeaseKeeper) -> bool:
        """Nothing to claim, but a job may still be running under a lease no process here
        holds: its holder may have died, so wait for the lease to lapse (or the job to end)
        rather than end the run without it. False when there is no such job."""
        lapse = self.queue.next_lapse(run.id, keeper.held)
        if lapse is None:
            return False
        await asyncio.sleep(min(RECHECK_SECONDS, max(lapse - time.time(), 0.0) + 0.05))
        return True

    async def _execute(
        self, run: Run, job: Job, handle: NodeHandle, outputs: RunOutputs, keeper: LeaseKeeper
    ) -> bool:
        """Run one job; returns whether this worker should take another."""
        runner = JobRunner(
            run, job, handle, outputs, self.events, self.poller,
            fence=functools.partial(self.queue.fenced, job),
            stopped=lambda: job.id in self._interrupted or job.id in self._skipped
            or keeper.taken_over(job.id),
        )  # fmt: skip
        self._running[handle.name] = job
        try:
            await runner.execute()
        except asyncio.CancelledError:
            self.queue.requeue(job, "the app stopped while this job ran")
            raise
        except LeaseLost:
            self._report_taken_over(runner)
            return True
        except (WebUIUnavailable, WebUITimedOut, WebUIUnauthorized) as error:
            return await self._node_trouble(run, runner, error)
        except SourceImageError as error:
            await self._fail(runner, str(error))
            return True
        except WebUIError as error:
            # Out of memory included: the same job on the same node would fail the same way.
            # The reason leaves the node out: every line that shows it names the node already.
            await self._fail(runner, error.message)
            return True
        except Exception as error:  # a bug must cost one job, never the run
            log.exception("job %s failed unexpectedly", job.id)
            await self._fail(runner, f"internal error: {type(error).__name__}: {error}")
            return True
        finally:
            self._running.pop(handle.name, None)
        return await self._finish(runner)

    async def _settle(
        self, runner: JobRunner, settle: Callable[..., bool], *args: object,
        before: Callable[[], None] | None = None,
    ) -> bool:  # fmt: skip
        """End the job with `settle` (finish or requeue) and `before` in one transaction, in
        a thread; False, with nothing written, when another claim has taken it."""
        if await asyncio.to_thread(settle, runner.job, *args, before=before):
            return True
        self._report_taken_over(runner)
        return False

    def _report_taken_over(self, runner: JobRunner) -> None:
        job = runner.job
        reason = str(LeaseLost(job.id))
        self.events.publish(
            JobFailed(job.id, job.index, runner.handle.name, runner.stage, reason, True)
        )

    async def _finish(self, runner: JobRunner) -> bool:
        job, node = runner.job, runner.handle.name
        if job.id in self._interrupted:
            self._interrupted.discard(job.id)
            if await self._settle(runner, self.queue.requeue, "interrupted", before=runner.discard):
                self.events.publish(Interrupted(job.id, job.index, node))
            return False
        if job.id in self._skipped:
            self._skipped.discard(job.id)
            finish = self.queue.finish
            if await self._settle(runner, finish, "cancelled", "skipped", before=runner.discard):
                self.events.publish(JobSkipped(job.id, job.index, node))
            return True
        write = functools.partial(runner.write_results, self.records)
        if not await self._settle(runner, self.queue.finish, "done", before=write):
            return True
        paths = [output.path for output in runner.produced]
        overhead_ms = runner.overhead * 1000
        self.events.publish(
            JobDone(job.id, job.index, node, paths, job.spec.prompt, job.seed, overhead_ms)
        )
        return True

    async def _fail(self, runner: JobRunner, reason: str) -> None:
        job = runner.job
        # What earlier stages made is kept and recorded.
        write = functools.partial(runner.write_results, self.records)
        if await self._settle(runner, self.queue.finish, "failed", reason, before=write):
            self.events.publish(
                JobFailed(job.id, job.index, runner.handle.name, runner.stage, reason, False)
            )

    async def _node_trouble(self, run: Run, runner: JobRunner, error: WebUIError) -> bool:
        job, handle = runner.job, runner.handle
        retry = job.attempts < self.options.max_attempts and not isinstance(
            error, WebUIUnauthorized
        )
        if not (retry or isinstance(error, WebUIUnauthorized)):
            await self._fail(runner, error.message)
            return True
        if not await self._settle(runner, self.queue.requeue, error.message):
            return True
        self.events.publish(
            JobFailed(job.id, job.index, handle.name, runner.stage, error.message, True)
        )
        if isinstance(error, WebUIUnauthorized):
            self.events.publish(NodeStatus(handle.name, "DISCONNECTED", error.message))
            return False
        return await self._wait_for_node(handle, error.message)

    async def _wait_for_node(self, handle: NodeHandle, reason: str) -> bool:
        self.events.publish(NodeStatus(handle.name, "DISCONNECTED", reason))
        deadline = time.monotonic() + self.options.node_down_grace
        delay = 0.25
        while not self._stop and time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
            if await handle.client.reachable():
                self.events.publish(NodeStatus(handle.name, "READY"))
                return True
        return False
