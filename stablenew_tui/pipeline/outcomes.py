"""How a job ends: done, failed, skipped or back in the queue, one transaction each.

Each outcome is settled in a thread, with what goes with it (the job's results, or removing
its files) inside the same transaction, and only while the job is still held by this claim:
when another claim has taken it over, nothing is written and the outcome is reported as
taken over instead (or, for a job copied at the tail of a run, as the copy that lost the race,
see `tail`). Events are published once the queue has the outcome.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

from stablenew_tui.learning.records import RecordWriter
from stablenew_tui.pipeline.events import CopyLost, EventStream, JobDone, JobFailed
from stablenew_tui.pipeline.job_runner import JobRunner
from stablenew_tui.pipeline.queue import JobQueue, LeaseLost


class JobOutcomes:
    def __init__(self, queue: JobQueue, events: EventStream, records: RecordWriter) -> None:
        self.queue = queue
        self.events = events
        self.records = records
        self.raced: set[str] = set()  # jobs made on two nodes at once: the first result won

    async def settle(
        self, runner: JobRunner, settle: Callable[..., bool], *args: object,
        before: Callable[[], None] | None = None,
    ) -> bool:  # fmt: skip
        """End the job with `settle` (finish or requeue) and `before` in one transaction, in
        a thread; False, with nothing written, when another claim has taken it."""
        if await asyncio.to_thread(settle, runner.job, *args, before=before):
            return True
        self.taken_over(runner)
        return False

    def taken_over(self, runner: JobRunner) -> None:
        job = runner.job
        if job.id in self.raced:
            self.events.publish(CopyLost(job.id, job.index, runner.handle.name))
            return
        reason = str(LeaseLost(job.id))
        self.events.publish(
            JobFailed(job.id, job.index, runner.handle.name, runner.stage, reason, True)
        )

    async def done(self, runner: JobRunner) -> bool:
        """Done, its results written; False when another claim (or copy) ended it first."""
        job, node = runner.job, runner.handle.name
        write = functools.partial(runner.write_results, self.records)
        if not await self.settle(runner, self.queue.finish, "done", before=write):
            return False
        paths = [output.path for output in runner.produced]
        overhead_ms = runner.overhead * 1000
        self.events.publish(
            JobDone(job.id, job.index, node, paths, job.spec.prompt, job.seed, overhead_ms)
        )
        return True

    async def fail(self, runner: JobRunner, reason: str) -> None:
        """Failed for good, with `reason`; what earlier stages made is kept and recorded."""
        job = runner.job
        write = functools.partial(runner.write_results, self.records)
        if await self.settle(runner, self.queue.finish, "failed", reason, before=write):
            self.events.publish(
                JobFailed(job.id, job.index, runner.handle.name, runner.stage, reason, False)
            )

    async def retry(self, runner: JobRunner, reason: str) -> bool:
        """Back in the queue to be made again (what it made so far is made again with it);
        False when another claim has taken it. A copy made first on another node of this
        process ended it instead: True, as the node's trouble is its own all the same."""
        job = runner.job
        if not await self.settle(runner, self.queue.requeue, reason):
            return job.id in self.raced
        self.events.publish(
            JobFailed(job.id, job.index, runner.handle.name, runner.stage, reason, True)
        )
        return True
