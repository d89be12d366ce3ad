"""Tail copies: at the end of a run, an idle node makes again the job that would end last.

When the queue has nothing for a node and another node of this process is making a job it
will end well after this node could (the speed model says so, or the job is far past its
estimate there: a slow or stalled node), this node makes that job too, at most once per job
(LATE, Zaharia et al., OSDI 2008; hedged requests, Dean & Barroso, 2013). The first result
wins; the other node is interrupted, and its request given up if it has not ended moments
later (`ProgressPoller.abandon`): a hung node never answers, and the run must not wait on it.
A job interrupted, skipped or cancelled stops on both nodes: the copy's node is interrupted
too (`drop_copy`).

Exactly once holds because the copy holds no claim of its own and writes nothing while it
works: its images stay in memory (`StagedOutputs`). The original holds the job's claim, and
both sides end the job through the same transaction, `JobQueue.finish`, which completes it
only while the original's claim (its generation) is still running. The copy that gets there
first writes its images, manifest lines and records inside that transaction, removing any
image the original wrote of an earlier stage under another extension; the other finds the job
done, so its fence fails and it writes nothing (`LeaseLost`, reported as `CopyLost`). A copy
racing a job that fails or goes back to the queue loses the same way: the job is made again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from stablenew_tui.atomic import write_bytes_atomic
from stablenew_tui.pipeline.cluster import NodeHandle, NodePool, tell
from stablenew_tui.pipeline.events import CopyLost, CopyStarted
from stablenew_tui.pipeline.job_runner import JobRunner
from stablenew_tui.pipeline.jobs import Job, Run
from stablenew_tui.pipeline.local_failures import LOCAL_FAILURES
from stablenew_tui.pipeline.outcomes import JobOutcomes
from stablenew_tui.pipeline.outputs import RunOutputs
from stablenew_tui.pipeline.progress import MadeElsewhere, ProgressPoller
from stablenew_tui.pipeline.refine import SourceImageError
from stablenew_tui.pipeline.scheduler import Scheduler
from stablenew_tui.webui.errors import WebUIError
from stablenew_tui.webui.images import ImageFormat, ReceivedImage

log = logging.getLogger("stablenew.tail")

# How long the node that lost the race has to end its request once told to stop: a healthy
# WebUI stops at the next sampling step and answers.
ABANDON_SECONDS = 3.0


class StagedOutputs(RunOutputs):
    """A run's outputs whose images are kept in memory until the manifest is written: then
    (inside the job's completion) they are written, and another copy's images of the job
    under other names removed."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self._staged: list[tuple[Path, bytes]] = []
        self._others: list[Path] = []

    def save_image(self, stage: str, job: Job, image: ReceivedImage) -> tuple[Path, str]:
        path = self.image_path(stage, job, image.extension)
        self._staged.append((path, image.data))
        self._others += [
            self.image_path(stage, job, other.extension)
            for other in ImageFormat
            if other.extension != image.extension
        ]
        return path, hashlib.sha256(image.data).hexdigest()

    def append_manifest(self, entries: list[dict[str, Any]]) -> None:
        for path in self._others:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        for path, data in self._staged:
            write_bytes_atomic(path, data)
        super().append_manifest(entries)


class TailCopies:
    def __init__(
        self, scheduler: Scheduler, outcomes: JobOutcomes, poller: ProgressPoller,
        pool: NodePool,
    ) -> None:  # fmt: skip
        self.scheduler = scheduler
        self.outcomes = outcomes
        self.poller = poller
        self.pool = pool
        self._copied: set[str] = set()  # job ids: never copied twice
        self._copies: dict[str, NodeHandle] = {}  # job id → the node making a copy of it

    async def make_copy(
        self, run: Run, handle: NodeHandle, outputs: RunOutputs, unfit: Collection[str]
    ) -> bool:
        """With nothing to claim for `handle`: copy the straggler, if there is one worth it.
        Returns whether it did (the node then looks for work again)."""
        queue, now = self.scheduler.queue, self.scheduler.queue.run(run.id)
        if now is None or now.paused or queue.waiting(run.id):
            return False  # jobs wait (for other nodes, or a resume): not the tail yet
        found = self.scheduler.straggler(handle.name, self._copied | set(unfit))
        if found is None:
            return False
        job, other = found
        self._copied.add(job.id)
        self.outcomes.raced.add(job.id)
        events = self.outcomes.events
        events.publish(CopyStarted(job.id, job.index, handle.name, other))
        runner = JobRunner(
            run, job, handle, StagedOutputs(outputs.folder), events, self.poller,
            fence=_unfenced, stopped=lambda: job.id not in self._copies,
        )  # fmt: skip
        self._copies[job.id] = handle
        try:
            await runner.execute()
            await runner.keep()  # in memory: written if the copy wins
            failed = False
        except (WebUIError, SourceImageError, MadeElsewhere) as error:
            log.info("%s: the copy of %s failed: %s", handle.name, job.id, error)
            failed = True
        if self._copies.pop(job.id, None) is None or failed:  # the original ended it first
            events.publish(CopyLost(job.id, job.index, handle.name))
            return True
        try:
            won = await self.outcomes.done(runner)
        except LOCAL_FAILURES as error:  # the original may still write it; this one cannot
            log.warning("%s: the copy of %s could not be written: %s", handle.name, job.id, error)
            return True
        if won:
            await self._stop(job.id, self._handle(other))
            self.scheduler.job_made(runner)
            await self.scheduler.save_now_and_then()
        return True

    async def drop_copy(self, job_id: str) -> None:
        """Stop the copy of `job_id` being made, if one is (the job ended, or was interrupted,
        skipped or cancelled): its node is interrupted, and the copy writes nothing."""
        copy = self._copies.pop(job_id, None)
        if copy is not None:
            await self._stop(job_id, copy)

    def _handle(self, node: str) -> NodeHandle | None:
        return next((handle for handle in self.pool.handles if handle.name == node), None)

    async def _stop(self, job_id: str, handle: NodeHandle | None) -> None:
        """A node making `job_id` in vain (it lost the race, or the job was stopped): told to
        stop, its request given up if it has not ended moments later."""
        if handle is not None:
            self.poller.abandon(job_id, handle.name, ABANDON_SECONDS)
            await tell(handle, "interrupt")


def _unfenced(action: Callable[[], Any]) -> Any:
    """A copy's writes are staged in memory (`StagedOutputs`): nothing to fence yet."""
    return action()
