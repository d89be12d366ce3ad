"""Which job each node makes next, from what it holds and how fast it is (the choice itself
is `affinity`'s), and when the run should end.

The scheduler knows per node of this process the checkpoint it last made an image with (a
node told so by its own answers, which `verify` checks; at the start of a run, the one its
options name) and feeds the speed model each job it finishes: the job's time when the node
had its checkpoint loaded already, else the extra time over the model's estimate as that
checkpoint's load time (see `speed_model`). Nodes of other processes sharing the queue are
not in its view: their jobs simply leave the queue.

The run's ETA is the same estimate the choices use (`batch_end`): the queued work per
checkpoint over the nodes at their measured rates, each starting once its job in hand is
expected to end, loads counted. It is published as jobs end (`RunEstimate`), and at the start
when the nodes' speeds are known from earlier runs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import statistics
import time
from collections.abc import Collection
from dataclasses import dataclass, replace

from stablenew_tui.pipeline.affinity import View, choose
from stablenew_tui.pipeline.batch_end import batch_end
from stablenew_tui.pipeline.claims import Choice, QueueGlance
from stablenew_tui.pipeline.cluster import NodeHandle
from stablenew_tui.pipeline.events import EventStream, RunEstimate
from stablenew_tui.pipeline.job_runner import JobRunner
from stablenew_tui.pipeline.jobs import Job, Run, job_id
from stablenew_tui.pipeline.queue import STOPPED_WHILE_RUNNING, JobQueue
from stablenew_tui.pipeline.speed_model import SpeedBook, job_work
from stablenew_tui.pipeline.stage_requests import job_model, pass_model
from stablenew_tui.pipeline.to_the_end import to_the_end
from stablenew_tui.webui.errors import WebUIError

log = logging.getLogger("stablenew.scheduler")
SAVE_SECONDS = 30.0  # the speed book is saved at least this often while jobs finish
ASK_SECONDS = 2.0  # a node that does not say what it holds by then is not waited for
PASS_LIMIT = 100  # times the job at the head of the queue may be passed over
# A job is made again on an idle node at the tail when that would take under this share of
# the time it has left where it is, or when it has taken this many times its estimate there.
TAIL_GAIN = 0.8
OVERDUE = 1.5
# Stages after txt2img that generate with the pass checkpoint (an extras upscale loads none).
_PASSES = ("img2img", "adetailer")


class Scheduler:
    def __init__(
        self, queue: JobQueue, speeds: SpeedBook, events: EventStream, *,
        pass_limit: int = PASS_LIMIT,
    ) -> None:  # fmt: skip
        self.queue = queue
        self.speeds = speeds
        self.events = events
        self.pass_limit = pass_limit
        self.loaded: dict[str, str | None] = {}  # node → checkpoint it holds, where known
        self.working: dict[str, str | None] = {}  # node → checkpoint of the job it makes
        self.serving: set[str] = set()  # nodes claiming for the run being made
        self._held_back: set[str] = set()
        self._models: dict[str, set[str | None]] = {}  # run id → the checkpoints its jobs name
        self._job_work: dict[str, float] = {}  # run id → a job's work
        self._making: dict[str, _InHand] = {}  # node → the job it makes
        self._passed: dict[str, int] = {}  # job id → times passed over at the queue's head
        self._saved = time.monotonic()

    # -- claiming ------------------------------------------------------------------------

    async def start(self, run: Run, handles: Collection[NodeHandle]) -> None:
        """Ask every node what it holds before any claims, so the first choices see them all;
        publish the run's ETA when the nodes' speeds are known already."""
        self._passed.clear()
        first = self.queue.job(job_id(run.id, 0))
        if first is not None:
            self._job_work[run.id] = job_work(first.spec, run.settings)
        await asyncio.gather(*(self._join(run, handle) for handle in handles))
        self._publish_estimate(run)

    async def claim(self, run: Run, handle: NodeHandle, skip: Collection[str]) -> Job | None:
        node = handle.name
        if node not in self.serving:  # a node added while the run goes on
            await self._join(run, handle)
        view, choices = self._view(run, node), []

        def chosen(glance: QueueGlance) -> Choice:
            """In the claim's transaction, which serializes claims: what other nodes hold is
            read, and this node's choice recorded, with no claim in between."""
            holds = {name: self.loaded.get(name) for name in set(self.serving)}
            now = replace(view, holds=holds | dict(self.working), passed=self._passed)
            choice, model = choose(now, glance)
            if not choice.wait:
                self.working[node] = model
            if choice.job_id is not None and (head := glance.first()) is not None:
                self._passed[head.id] = self._passed.get(head.id, 0) + 1
            choices.append(choice)
            return choice

        # In a thread: a claim waits for any write another worker is making to the disk.
        claim = functools.partial(self.queue.claim, run.id, node, skip, chosen)
        job = await to_the_end(claim, undo=self._unclaim)
        self._held_back.discard(node)
        if job is not None:
            self.working[node] = job.spec.model
            self._making[node] = _InHand(job, job_work(job.spec, run.settings), time.monotonic())
        else:
            self.working.pop(node, None)
            if choices and choices[-1].wait:
                self._held_back.add(node)
        return job

    def _unclaim(self, job: Job | None) -> None:
        """A job claimed as the claiming task was cancelled goes straight back to the queue."""
        if job is not None:
            self.queue.requeue(job, STOPPED_WHILE_RUNNING)

    def holding_back(self, node: str) -> bool:
        """Whether the node's last claim took nothing because other nodes make what is left
        better without it: it should look again when a job ends, not leave the run."""
        return node in self._held_back

    def ended(self, run: Run, node: str) -> None:
        """The node's job ended, however: the run's ETA is published anew, once the node's
        next claim is under way (the estimate reads the queue: the node need not wait)."""
        self.working.pop(node, None)
        self._making.pop(node, None)
        asyncio.get_running_loop().call_soon(self._publish_estimate, run)

    def leave(self, node: str) -> None:
        """The node claims no more for this run; the next run asks it what it holds again."""
        self.serving.discard(node)
        self.working.pop(node, None)
        self._making.pop(node, None)
        self._held_back.discard(node)

    async def _join(self, run: Run, handle: NodeHandle) -> None:
        """Count the node in, with what it holds as the run's jobs spell it (names differ: a
        title with or without its hash, a bare model name)."""
        self.serving.add(handle.name)
        try:
            async with asyncio.timeout(ASK_SECONDS):
                title = await handle.client.current_model()
                catalog = await handle.catalog.get()
        except (WebUIError, TimeoutError) as error:
            log.info("%s: which checkpoint it holds is unknown: %s", handle.name, error)
            self.loaded.pop(handle.name, None)
            return
        held = catalog.checkpoint(title) if title else None
        models = self._models_of(run)
        same = [model for model in models if model and held and catalog.checkpoint(model) == held]
        self.loaded[handle.name] = same[0] if same else title

    def _view(self, run: Run, node: str = "") -> View:
        """What the choice needs besides what the nodes hold, computed here: the speed book
        is not for the claim's thread."""
        nodes = self.serving | ({node} if node else set())
        known = {name: rate for name in nodes if (rate := self.speeds.rate(name))}
        models = self._models_of(run)
        return View(
            settings=run.settings,
            holds={},
            rates=known,
            default_rate=statistics.fmean(known.values()) if known else 1.0,
            loads={
                (name, model): seconds
                for name in nodes
                for model in models
                if model and (seconds := self.speeds.load_seconds(name, model)) is not None
            },
            pass_limit=self.pass_limit,
            node=node,
        )

    # -- the run's ETA -------------------------------------------------------------------

    def estimate(self, run: Run) -> float | None:
        """Seconds until the run's jobs are made here; None while no node's speed is known."""
        work = self._job_work.get(run.id)
        view = replace(self._view(run), holds={**self.loaded, **self.working})
        if work is None or not view.rates or not self.serving:
            return None
        now, lanes = time.monotonic(), []
        for name in self.serving:
            busy = 0.0
            if name in self._making:
                making = self._making[name]
                expected = self.speeds.estimate(name, making.work) or making.work / view.rate(name)
                busy = max(expected - (now - making.since), 0.0)
            lanes.append(view.lane(name, view.holds.get(name), work, busy))
        waiting = self.queue.waiting(run.id)
        left = {model: count * work for model, count in waiting.items() if model is not None}
        # Jobs naming no checkpoint are made with whatever a node holds: no load.
        anywhere = waiting.get(None, 0) * work / sum(lane.rate for lane in lanes)
        end = batch_end(lanes, left).end + anywhere
        last = max((lane.ready for lane in lanes), default=0.0)
        return max(end, last) if math.isfinite(end) else None

    # -- the tail ------------------------------------------------------------------------

    def straggler(self, node: str, passed: Collection[str]) -> tuple[Job, str] | None:
        """The job in hand on another node that would end last, with that node, when `node`
        would end it much sooner (`TAIL_GAIN`), or it is far past its estimate there
        (`OVERDUE`) and `node` would take less than it has run already; jobs in `passed` are
        not considered. None when no node's timing is known well enough to tell."""
        now, latest = time.monotonic(), None
        for other, making in self._making.items():
            expected = self.speeds.estimate(other, making.work)
            if other == node or making.job.id in passed or expected is None:
                continue
            if latest is None or making.since + expected > latest[0]:
                latest = (making.since + expected, expected, other, making)
        mine = self.speeds.estimate(node, latest[3].work) if latest else None
        if latest is None or mine is None:
            return None
        ends_at, expected, other, making = latest
        model = making.job.spec.model
        if model is not None and model != self.loaded.get(node):
            mine += self.speeds.load_seconds(node, model) or mine
        remaining = ends_at - now
        if remaining > 0:
            worth = mine < TAIL_GAIN * remaining
        else:  # past its estimate there: stalled, or much slower than it was
            elapsed = now - making.since
            worth = elapsed > OVERDUE * expected and mine < elapsed
        return (making.job, other) if worth else None

    def _publish_estimate(self, run: Run) -> None:
        seconds = self.estimate(run)
        if seconds is not None:
            self.events.publish(RunEstimate(run.id, seconds))

    def _models_of(self, run: Run) -> set[str | None]:
        if run.id not in self._models:
            self._models[run.id] = self.queue.models(run.id)
        return self._models[run.id]

    # -- learning ------------------------------------------------------------------------

    def job_made(self, runner: JobRunner) -> None:
        """Learn from a job that ran to its end on its node, before the node's next claim:
        from its node's answers (our writing them is not the node's time)."""
        if not runner.answers:
            return
        node, job, settings = runner.handle.name, runner.job, runner.run.settings
        seconds = runner.answers[-1].received - runner.answers[0].started
        work = job_work(job.spec, settings)
        model = job_model(settings, job)
        known = node in self.loaded
        if known and self.loaded[node] == model:
            self.speeds.observe(node, work, seconds)
        elif known and model is not None:
            expected = self.speeds.estimate(node, work)
            if expected is not None:
                self.speeds.observe_load(node, model, max(seconds - expected, 0.0))
        self.loaded[node] = _held_after(runner)

    async def save_now_and_then(self) -> None:
        """Save the speed book when it was last saved SAVE_SECONDS ago or more."""
        if time.monotonic() - self._saved >= SAVE_SECONDS:
            await self.save()

    async def save(self) -> None:
        self._saved = time.monotonic()
        await asyncio.to_thread(self.speeds.save)


@dataclass(frozen=True)
class _InHand:
    job: Job
    work: float
    since: float  # time.monotonic() at its claim


def _held_after(runner: JobRunner) -> str | None:
    """The checkpoint a node holds after making this job: the pass checkpoint when a later
    stage generated with it."""
    settings, job = runner.run.settings, runner.job
    generated = {answer.stage for answer in runner.answers}
    upscaled_by_img2img = "upscale" in generated and settings.upscale.method == "img2img"
    if upscaled_by_img2img or generated & set(_PASSES):
        return pass_model(settings, job)
    return job_model(settings, job)
