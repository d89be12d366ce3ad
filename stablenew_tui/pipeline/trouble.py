"""The engine's one retry policy: what a job's error leads to, for the job and for its node.

By what the error says about where the fault lies (`webui.errors.trouble_of`):
- transient (connection refused or dropped, 502/503/504 from a proxy, a timeout, a generation
  stalled): the job goes back to the queue, where any node may take it again; a node that
  does not answer right after waits, probing it with backoff and jitter, until it does (a
  probe that hangs counts as no answer). A node that does not answer
  for `[client] retry_seconds` is given up for the run: its job stays queued, for another node
  or `stablenew run --resume`. A job that keeps meeting transient errors for that long while
  its node answers in between fails, with the last reason: it is the job, not the node;
- node limit (out of memory): the job fails on that node only: it goes back to the queue for
  a node of the run that may still make a job that size, and fails, saying so, when there is
  none;
- node unusable (credentials refused, no API): the job goes back to the queue and the node
  takes no more;
- request (400, 422, a WebUI's 500, an image that does not check out): the job fails at once
  with the server's reason, because it would fail the same way anywhere.

Whatever the trouble on the node's side, the node's health keeps count (`health`): three
failed jobs in a row take the node out of the run, probed with growing delays until it answers;
a job that failed on two different nodes that answered right after is set aside as failed, with
both reasons; out of memory keeps the node from jobs of that size and larger.

Quick requests (GETs) are first retried within the call by the transport, by the same rule.
What the policy remembers lasts one run in one process: `--resume` starts afresh.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from stablenew_tui.config import NodeConfig
from stablenew_tui.pipeline.cluster import NodeHandle
from stablenew_tui.pipeline.events import EventStream, NodeBreaker, NodeStatus
from stablenew_tui.pipeline.health import BREAKER_FAILURES, NodeHealth, RunWatch
from stablenew_tui.pipeline.job_runner import JobRunner
from stablenew_tui.pipeline.jobs import Run
from stablenew_tui.pipeline.outcomes import JobOutcomes
from stablenew_tui.webui.errors import Trouble, WebUIError, trouble_of
from stablenew_tui.webui.transport import backoff_delay

# Waits between probes of a node in trouble: from about half a second, doubling, to a cap
# that keeps a node coming back from a long outage noticed within seconds.
PROBE_BASE_DELAY = 0.5
PROBE_MAX_DELAY = 10.0
# How long a probe may take before it counts as no answer (a hung server answers nothing).
PROBE_SECONDS = 10.0
# How long a node that just failed a job gets to answer: if it does, the failure may be the
# job's, and the node goes on at once; if not, it is the node's, and the node is waited for.
ANSWER_SECONDS = 3.0


def policy_for(
    run: Run, outcomes: JobOutcomes, events: EventStream, stopping: asyncio.Event,
    nodes: Sequence[NodeConfig],
) -> RetryPolicy:  # fmt: skip
    """The policy for making `run` on `nodes`: what they may make is judged from the jobs
    left to make."""
    queue = outcomes.queue
    jobs = [*queue.jobs(run.id, "queued"), *queue.jobs(run.id, "running")]
    health = NodeHealth(nodes, run.settings, jobs)
    return RetryPolicy(outcomes, events, RunWatch(stopping, queue, run.id), health)


class RetryPolicy:
    """The policy for one run; `health` knows its nodes, `watch` ends its waits."""

    def __init__(
        self, outcomes: JobOutcomes, events: EventStream, watch: RunWatch, health: NodeHealth
    ) -> None:
        self.outcomes = outcomes
        self.events = events
        self.watch = watch
        self.health = health
        self._job_since: dict[str, float] = {}  # job id → its first transient error

    def ended(self, job_id: str, node: str) -> None:
        """The job ended on `node` without the node failing it."""
        self._job_since.pop(job_id, None)
        self.health.succeeded(node)

    async def refused(self, runner: JobRunner) -> bool:
        """Fail a claimed job that no node of the run may make, saying why; whether it was."""
        reason = self.health.refused_everywhere(runner.job.id)
        if reason is not None:
            await self._fail(runner, reason)
        return reason is not None

    async def handle(self, runner: JobRunner, error: WebUIError) -> bool:
        """Settle the job after `error`; returns whether its node takes another job."""
        job, handle = runner.job, runner.handle
        trouble = trouble_of(error)
        if trouble is Trouble.REQUEST:
            await self._fail(runner, error.message)
            return True
        if trouble is Trouble.NODE_UNUSABLE:
            await self.outcomes.retry(runner, error.message)
            self.events.publish(NodeStatus(handle.name, "DISCONNECTED", error.message))
            return False
        tripped = self.health.failed(handle.name)
        if trouble is Trouble.NODE_LIMIT:
            self.health.out_of_memory(handle.name, job.id)
            self.health.blame(job.id, handle.name, error.message)
            poisoned = self.health.poisoned(job.id)
            if poisoned or not self.health.another_may_try(job.id, handle.name):
                alone = len(self.health.nodes) < 2  # then the server's words say it all
                nowhere = "" if alone else "; no other node of the run may make it"
                await self._fail(runner, poisoned or error.message + nowhere)
            else:
                await self.outcomes.retry(runner, f"{error.message}; another node will try it")
            return await self._take_out(handle, error.message) if tripped else True
        # Whether the node answers right after says whose failure it was. It is asked before
        # the job is settled only when its answer may set the job aside (it failed elsewhere).
        settle_first = not self.health.failed_elsewhere(job.id, handle.name)
        if settle_first and not await self._settle(runner, error):
            return True  # taken over: nothing of ours to wait for
        answers = await self._answers(handle)
        if answers:
            self.health.blame(job.id, handle.name, error.message)
        if not settle_first and not await self._settle(runner, error):
            return True
        if tripped:
            return await self._take_out(handle, error.message)
        return answers or await self._wait_for_node(
            handle, error.message, handle.client.settings.retry_seconds
        )

    async def _settle(self, runner: JobRunner, error: WebUIError) -> bool:
        """After a transient error: fail the job when it failed on enough nodes or was retried
        for too long, else put it back in the queue. False when another claim has taken it."""
        job_id = runner.job.id
        limit = runner.handle.client.settings.retry_seconds
        now = time.monotonic()
        retried_for = now - self._job_since.setdefault(job_id, now)
        if poisoned := self.health.poisoned(job_id):
            await self._fail(runner, poisoned)
        elif retried_for >= limit:
            await self._fail(runner, f"gave up after {retried_for:.0f} s: {error.message}")
        else:
            return await self.outcomes.retry(runner, error.message)
        return True

    async def _fail(self, runner: JobRunner, reason: str) -> None:
        self._job_since.pop(runner.job.id, None)
        await self.outcomes.fail(runner, reason)

    async def _answers(self, handle: NodeHandle) -> bool:
        return bool(await self.watch.unless_over(_reachable(handle), ANSWER_SECONDS))

    async def _take_out(self, handle: NodeHandle, reason: str) -> bool:
        """The node's breaker opened: leave it alone for a while (longer each time), then
        probe it until it answers."""
        delay = self.health.breaker_delay(handle.name)
        self.events.publish(NodeBreaker(handle.name, out=True))
        self.events.publish(
            NodeStatus(
                handle.name, "DISCONNECTED",
                f"out of the run after {BREAKER_FAILURES} failed jobs in a row (last: {reason}); "
                f"probing again in {delay:.0f} s",
            )
        )  # fmt: skip
        if await self.watch.sleep(delay):
            return False
        limit = handle.client.settings.retry_seconds
        back = "back in the run: it answers again"
        if not await self._wait_for_node(handle, reason, limit, announce=False, back=back):
            return False
        self.events.publish(NodeBreaker(handle.name, out=False))
        return True

    async def _wait_for_node(
        self, handle: NodeHandle, reason: str, limit: float, *, announce: bool = True,
        back: str = "",
    ) -> bool:  # fmt: skip
        """Probe the node, with backoff and jitter, until it answers: True. False when it has
        not answered for `limit` seconds or refuses every job (the node is given up for this
        run), or when the run stops or has nothing left to make."""
        if self.watch.over():
            return False
        if announce:
            self.events.publish(NodeStatus(handle.name, "DISCONNECTED", reason))
        started = time.monotonic()
        failures = 0
        while (waited := time.monotonic() - started) < limit or failures == 0:
            failures += 1
            delay = backoff_delay(failures, PROBE_BASE_DELAY, PROBE_MAX_DELAY)
            if await self.watch.sleep(min(delay, max(limit - waited, 0.0))):
                return False
            try:
                probe = handle.client.reachable()
                if await self.watch.unless_over(probe, PROBE_SECONDS):
                    self.events.publish(NodeStatus(handle.name, "READY", back))
                    return True
            except WebUIError as error:  # it answers, but would take no job
                reason = error.message
                break
            if self.watch.over():
                return False
        waited = time.monotonic() - started
        self.events.publish(
            NodeStatus(handle.name, "DISCONNECTED", f"given up after {waited:.0f} s: {reason}")
        )
        return False


async def _reachable(handle: NodeHandle) -> bool:
    """Whether the node answers as a WebUI that takes jobs."""
    try:
        return await handle.client.reachable()
    except WebUIError:
        return False
