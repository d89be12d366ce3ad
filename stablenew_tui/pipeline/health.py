"""What a run learns about its nodes' health, and how its workers wait without holding it open.

`NodeHealth` keeps, for one run in one process:
- each node's failures in a row (any trouble on the node's side: a transient error, a stall,
  out of memory); the third opens its breaker: the node is taken out and probed (`trouble`);
- the failures each job met on nodes that answered right after (so they were the job's doing,
  or at least not the node's being down); a job with two such nodes is set aside as failed,
  with both reasons, instead of failing a third;
- the smallest size each node ran out of memory at: while another node may make them, it
  claims nothing that large again (alone, it tries: running out is not always for good);
- which jobs each node's `[[nodes]]` limits keep it from (`node_limits`).
These reach the queue's claim as the ids of the jobs a node passes over, with the jobs that
failed on it while another node may try them. A job that the limits of every node of the run
keep from is not passed over: the first node to claim it fails it, saying why.

`RunWatch` is how a worker waits (a probe's backoff, a probe itself, another node's job): it
wakes as soon as the run stops or has nothing left to make, so a run ends within moments of
its last image whatever its nodes are doing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from stablenew_tui.config import NodeConfig
from stablenew_tui.pipeline.jobs import Job
from stablenew_tui.pipeline.node_limits import JobNeeds, nobody_makes, refusal
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.pipeline.settings import PipelineSettings

# Node-side failures in a row that take a node out of the run.
BREAKER_FAILURES = 3
# How long a node is left alone when its breaker opens: doubling each time it opens again.
BREAKER_BASE_DELAY = 2.0
BREAKER_MAX_DELAY = 60.0
# Different nodes a job may fail on (while they answer) before it is set aside.
POISON_NODES = 2
# How often a waiting worker (or a process waiting for a run) looks again at what other
# processes did.
RECHECK_SECONDS = 1.0

_Result = TypeVar("_Result")


class NodeHealth:
    def __init__(
        self, nodes: Sequence[NodeConfig], settings: PipelineSettings, jobs: Sequence[Job]
    ) -> None:
        self.nodes = {node.name: node for node in nodes}
        self.serving: set[str] = set()  # the nodes whose workers still take the run's jobs
        self._needs = {job.id: JobNeeds.of(settings, job.spec) for job in jobs}
        self._streak: dict[str, int] = {}  # node → node-side failures in a row
        self._trips: dict[str, int] = {}  # node → times its breaker opened
        self._failed_on: dict[str, dict[str, str]] = {}  # job id → {node: reason}
        self._memory: dict[str, float] = {}  # node → smallest megapixels it ran out at
        # node → the jobs its `[[nodes]]` limits keep it from that another node may make
        self._limited: dict[str, frozenset[str]] = {}
        self._judge_limits()

    def serve(self, node: NodeConfig) -> None:
        """`node`'s worker takes the run's jobs. A node added while the run goes on brings its
        `[[nodes]]` limits, and may make what the limits of the others kept from them all."""
        if node.name not in self.nodes:
            self.nodes[node.name] = node
            self._judge_limits()
        self.serving.add(node.name)

    def _judge_limits(self) -> None:
        self._limited = {
            name: frozenset(
                job_id
                for job_id, needs in self._needs.items()
                if refusal(node, needs) is not None and not self.refused_everywhere(job_id)
            )
            for name, node in self.nodes.items()
        }

    # -- what a node may claim -----------------------------------------------------------

    def passed_over(self, node: str) -> frozenset[str]:
        """The jobs `node` is not to claim: those its limits keep it from and another node
        of the run may make; and, while another node serving the run may try them, those as
        large as one it ran out of memory on and those that failed on it."""
        smallest = self._memory.get(node)
        suspect = {job_id for job_id, failures in self._failed_on.items() if node in failures}
        if smallest is not None:
            suspect.update(j for j, needs in self._needs.items() if needs.megapixels >= smallest)
        return self._limited.get(node, frozenset()) | {
            job_id for job_id in suspect if self.another_may_try(job_id, node)
        }

    def another_may_try(self, job_id: str, node: str) -> bool:
        """Whether a node serving the run other than `node` may still make the job: its
        limits allow it, it has not run out of memory at that size nor failed the job."""
        needs = self._needs.get(job_id)
        failures = self._failed_on.get(job_id, {})
        return any(
            other != node
            and other not in failures
            and (needs is None or self._refusal(other, needs) is None)
            for other in self.serving
        )

    def refused_everywhere(self, job_id: str) -> str | None:
        """Why the `[[nodes]]` limits of every node of the run keep it from the job, naming
        each; None when a node may make it."""
        needs = self._needs.get(job_id)
        if needs is None:
            return None
        return nobody_makes(needs, [refusal(node, needs) for node in self.nodes.values()])

    def out_of_memory(self, node: str, job_id: str) -> None:
        needs = self._needs.get(job_id)
        if needs is not None:
            smallest = self._memory.get(node, needs.megapixels)
            self._memory[node] = min(smallest, needs.megapixels)

    def _refusal(self, node: str, needs: JobNeeds) -> str | None:
        config = self.nodes.get(node)
        limit = refusal(config, needs) if config is not None else None
        smallest = self._memory.get(node)
        if limit is None and smallest is not None and needs.megapixels >= smallest:
            return f"{node} ran out of memory at {smallest:.3g} MP"
        return limit

    # -- the breaker and the poison job --------------------------------------------------

    def succeeded(self, node: str) -> None:
        self._streak[node] = 0

    def failed(self, node: str) -> bool:
        """Count a node-side failure; True when it opens the node's breaker."""
        self._streak[node] = self._streak.get(node, 0) + 1
        if self._streak[node] < BREAKER_FAILURES:
            return False
        self._streak[node] = 0
        self._trips[node] = self._trips.get(node, 0) + 1
        return True

    def breaker_delay(self, node: str) -> float:
        """How long a node whose breaker just opened is left alone before the first probe."""
        trips = self._trips.get(node, 1)
        return min(BREAKER_MAX_DELAY, BREAKER_BASE_DELAY * 2.0 ** (trips - 1))

    def blame(self, job_id: str, node: str, reason: str) -> None:
        """The job failed on `node` while the node answered: the job may be at fault."""
        self._failed_on.setdefault(job_id, {})[node] = reason

    def failed_elsewhere(self, job_id: str, node: str) -> bool:
        return any(other != node for other in self._failed_on.get(job_id, {}))

    def poisoned(self, job_id: str) -> str | None:
        """The reasons, node by node, when the job failed on enough different nodes."""
        failures = self._failed_on.get(job_id, {})
        if len(failures) < POISON_NODES:
            return None
        listed = "; ".join(f"on {node}: {reason}" for node, reason in failures.items())
        return f"failed on {len(failures)} nodes, set aside: {listed}"


class RunWatch:
    """Waits that end when the run stops or has nothing left to make (no job queued or in
    progress, in any process). `pulse()` is called each time a job of this process ends, so
    waiting workers look again at once; other processes' doings are seen within a second."""

    def __init__(self, stopping: asyncio.Event, queue: JobQueue, run_id: str) -> None:
        self.stopping = stopping
        self.queue = queue
        self.run_id = run_id
        self._changed = asyncio.Event()
        # Counted, so that a worker that looked at the queue while a job ended (and so was
        # not yet waiting for the pulse) knows to look again rather than leave the run.
        self.pulses = 0

    def pulse(self) -> None:
        self.pulses += 1
        self._changed.set()
        self._changed.clear()

    def work_left(self) -> bool:
        counts = self.queue.counts(self.run_id)
        return bool(counts.get("queued") or counts.get("running"))

    def over(self) -> bool:
        return self.stopping.is_set() or not self.work_left()

    async def sleep(self, seconds: float) -> bool:
        """Sleep `seconds`; returns at once, True, when the run stops or has nothing left."""
        deadline = time.monotonic() + seconds
        while not self.over():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await self._next_change(min(remaining, RECHECK_SECONDS))
        return True

    async def unless_over(self, action: Awaitable[_Result], seconds: float) -> _Result | None:
        """`action`'s result, or None when it takes longer than `seconds` or the run ends
        first (it is cancelled then)."""
        task = asyncio.ensure_future(action)
        deadline = time.monotonic() + seconds
        try:
            while not task.done():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.over():
                    return None
                waker = asyncio.ensure_future(self._next_change(RECHECK_SECONDS))
                await asyncio.wait({task, waker}, timeout=remaining, return_when="FIRST_COMPLETED")
                waker.cancel()
            return task.result()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await task

    async def for_others(self, running_here: bool, next_lapse: float | None) -> bool:
        """Nothing to claim now, but a job may come back to the queue: from a node of this
        process (`running_here`) or when a lease another process holds lapses
        (`next_lapse`, its time). False when there is no such job or the run stopped."""
        if self.stopping.is_set() or (not running_here and next_lapse is None):
            return False
        if running_here:
            await self._next_change(RECHECK_SECONDS)
        else:
            assert next_lapse is not None
            await self._next_change(min(RECHECK_SECONDS, max(next_lapse - time.time(), 0) + 0.05))
        return True

    async def _next_change(self, seconds: float) -> None:
        """Until a job of this process ends, the run stops, or `seconds` pass."""
        stopped = asyncio.ensure_future(self.stopping.wait())
        changed = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({stopped, changed}, timeout=seconds, return_when="FIRST_COMPLETED")
        finally:
            stopped.cancel()
            changed.cancel()
