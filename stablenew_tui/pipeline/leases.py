"""Taking and keeping the leases of a run being made: the run's own, those of its jobs in
progress and its nodes' turns (`node_leases`).

While the engine makes a run, one task renews every lease this process holds on it, every
third of the lease, in one transaction; a process that stops (crash, kill, frozen machine)
stops renewing, and its work becomes free when the lease lapses. A renewal that finds a job
or the run taken over says so; the engine then stops making that job or claiming new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable

from stablenew_tui.pipeline.events import EventStream, RunWaiting
from stablenew_tui.pipeline.health import RECHECK_SECONDS
from stablenew_tui.pipeline.holders import Holder, RunBusy
from stablenew_tui.pipeline.jobs import Job, Run
from stablenew_tui.pipeline.node_leases import NodeTurn
from stablenew_tui.pipeline.queue import JobQueue, RunLease

log = logging.getLogger("stablenew.leases")


Claim = tuple[str, int]  # a job id and the generation of its claim


def claim_of(job: Job) -> Claim:
    return (job.id, job.generation)


class LeaseKeeper:
    def __init__(
        self, queue: JobQueue, run: RunLease, on_run_lost: Callable[[Holder | None], None]
    ) -> None:
        self.queue = queue
        self.run = run
        self.on_run_lost = on_run_lost
        # Claims, not job ids: a worker waiting for its node still holds the claim of a job
        # that went back to the queue while another worker makes the same job on a new claim.
        self.held: dict[Claim, Job] = {}  # the claims being made here
        self.turns: dict[str, NodeTurn] = {}  # node name → its turn, while a worker has it
        self.lost: set[Claim] = set()  # held claims the queue no longer honours
        self.run_lost = False

    def hold(self, job: Job) -> None:
        self.held[claim_of(job)] = job

    def release(self, job: Job) -> None:
        self.held.pop(claim_of(job), None)
        self.lost.discard(claim_of(job))

    def taken_over(self, job: Job) -> bool:
        return claim_of(job) in self.lost

    @contextlib.asynccontextmanager
    async def keeping(self) -> AsyncIterator[LeaseKeeper]:
        """Renew until the block ends, then give the run up."""
        task = asyncio.create_task(self._renew_until_cancelled())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            try:
                self.queue.release_run(self.run)
            except sqlite3.Error as error:  # a full disk (reported): the lease lapses instead
                log.info("could not release run %s: %s", self.run.run_id, error)

    async def _renew_until_cancelled(self) -> None:
        interval = self.queue.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            await self.renew()

    async def renew(self) -> None:
        try:
            renewal = await asyncio.to_thread(self.queue.renew, self.run, list(self.held.values()))
            await asyncio.to_thread(self.queue.nodes.renew, list(self.turns.values()))
        except sqlite3.Error as error:  # a busy or failing disk: try again next time
            log.info("could not renew the leases of run %s: %s", self.run.run_id, error)
            return
        self.lost.update(claim_of(job) for job in renewal.lost_jobs if claim_of(job) in self.held)
        if not renewal.run_kept and not self.run_lost:
            self.run_lost = True
            self.on_run_lost(self.queue.run_owner(self.run.run_id))


async def take_run(
    queue: JobQueue, run: Run, events: EventStream, wait_unless: asyncio.Event | None
) -> RunLease:
    """The run's lease. Raises RunBusy when another live process is making the run, unless
    `wait_unless` is given: then wait for that process to end or vanish, or for the event."""
    waiting = False
    while True:
        try:
            return queue.take_run(run.id)
        except RunBusy as busy:
            if wait_unless is None or wait_unless.is_set():
                raise
            if not waiting:
                events.publish(RunWaiting(run.id, busy.holder.describe()))
                waiting = True
        await asyncio.sleep(min(RECHECK_SECONDS, queue.lease_seconds / 3))
