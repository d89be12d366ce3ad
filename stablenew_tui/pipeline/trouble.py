"""The engine's one retry policy: what a job's error leads to, for the job and for its node.

By what the error says about where the fault lies (`webui.errors.trouble_of`):
- transient (connection refused or dropped, 502/503/504 from a proxy, a timeout, a generation
  stalled): the job goes back to the queue, where any node may take it again, and the node
  waits, probing it with backoff and jitter, until it answers. A node that does not answer
  for `[client] retry_seconds` is given up for the run: its job stays queued, for another node
  or `stablenew run --resume`. A job that keeps meeting transient errors for that long while
  its node answers in between fails, with the last reason: it is the job, not the node;
- node limit (out of memory): the job fails on that node only: it goes back to the queue for
  a node of the run that has not failed it, and fails when there is none;
- node unusable (credentials refused, no API): the job goes back to the queue and the node
  takes no more;
- request (400, 422, a WebUI's 500, an image that does not check out): the job fails at once
  with the server's reason, because it would fail the same way anywhere.

Quick requests (GETs) are first retried within the call by the transport, by the same rule.
What the policy remembers lasts one run in one process: `--resume` starts afresh.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from stablenew_tui.pipeline.cluster import NodeHandle
from stablenew_tui.pipeline.events import EventStream, NodeStatus
from stablenew_tui.pipeline.job_runner import JobRunner
from stablenew_tui.pipeline.outcomes import JobOutcomes
from stablenew_tui.webui.errors import Trouble, WebUIError, trouble_of
from stablenew_tui.webui.transport import backoff_delay

# Waits between probes of a node in trouble: from about half a second, doubling, to a cap
# that keeps a node coming back from a long outage noticed within seconds.
PROBE_BASE_DELAY = 0.5
PROBE_MAX_DELAY = 10.0

# Sleeps `seconds` unless the run is stopped first; returns whether it was stopped.
StoppableSleep = Callable[[float], Awaitable[bool]]


class RetryPolicy:
    """The policy for one run; `serving` names the nodes still taking its jobs."""

    def __init__(
        self, outcomes: JobOutcomes, events: EventStream, sleep: StoppableSleep, run_id: str
    ) -> None:
        self.outcomes = outcomes
        self.events = events
        self.sleep = sleep
        self.run_id = run_id
        self.serving: set[str] = set()
        self._job_since: dict[str, float] = {}  # job id → its first transient error
        self._unfit: dict[str, set[str]] = {}  # node → jobs it ran out of memory on

    def unfit_for(self, node: str) -> set[str]:
        """The jobs this node is not to claim again in this run."""
        return self._unfit.setdefault(node, set())

    def ended(self, job_id: str) -> None:
        self._job_since.pop(job_id, None)

    async def handle(self, runner: JobRunner, error: WebUIError) -> bool:
        """Settle the job after `error`; returns whether its node takes another job."""
        job, node = runner.job, runner.handle.name
        trouble = trouble_of(error)
        if trouble is Trouble.REQUEST:
            await self._fail(runner, error.message)
            return True
        if trouble is Trouble.NODE_LIMIT:
            self.unfit_for(node).add(job.id)
            if any(job.id not in self.unfit_for(other) for other in self.serving - {node}):
                await self.outcomes.retry(runner, f"{error.message}; another node will try it")
            else:
                await self._fail(runner, error.message)
            return True
        if trouble is Trouble.NODE_UNUSABLE:
            await self.outcomes.retry(runner, error.message)
            self.events.publish(NodeStatus(node, "DISCONNECTED", error.message))
            return False
        now = time.monotonic()
        retried_for = now - self._job_since.setdefault(job.id, now)
        limit = runner.handle.client.settings.retry_seconds
        if retried_for >= limit:
            await self._fail(runner, f"gave up after {retried_for:.0f} s: {error.message}")
        elif not await self.outcomes.retry(runner, error.message):
            return True  # taken over: nothing of ours to wait for
        return await self._wait_for_node(runner.handle, error.message, limit)

    def _work_left(self) -> bool:
        """Whether the run has jobs queued or in progress: a node in trouble is not waited
        for once there is nothing left for it."""
        counts = self.outcomes.queue.counts(self.run_id)
        return bool(counts.get("queued") or counts.get("running"))

    async def _fail(self, runner: JobRunner, reason: str) -> None:
        self.ended(runner.job.id)
        await self.outcomes.fail(runner, reason)

    async def _wait_for_node(self, handle: NodeHandle, reason: str, limit: float) -> bool:
        """Probe the node, with backoff and jitter, until it answers: True. False when it has
        not answered for `limit` seconds or refuses every job (the node is given up for this
        run), or when the run stops or has nothing left to make."""
        self.events.publish(NodeStatus(handle.name, "DISCONNECTED", reason))
        started = time.monotonic()
        failures = 0
        while (waited := time.monotonic() - started) < limit or failures == 0:
            failures += 1
            delay = backoff_delay(failures, PROBE_BASE_DELAY, PROBE_MAX_DELAY)
            if await self.sleep(min(delay, max(limit - waited, 0.0))) or not self._work_left():
                return False
            try:
                if await handle.client.reachable():
                    self.events.publish(NodeStatus(handle.name, "READY"))
                    return True
            except WebUIError as error:  # it answers, but would take no job
                reason = error.message
                break
        waited = time.monotonic() - started
        self.events.publish(
            NodeStatus(handle.name, "DISCONNECTED", f"given up after {waited:.0f} s: {reason}")
        )
        return False
