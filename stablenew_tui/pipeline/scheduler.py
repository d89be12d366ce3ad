"""Which job each node makes next, from what it has loaded and how fast it is.

Model affinity: while jobs for several checkpoints wait, a node weighs its options with the
speed model (`batch_end`): stay on the checkpoint it holds, or switch to another now,
whichever makes the batch end sooner (a switch must win by a margin, so noise does not make
nodes flap between checkpoints; within the margin, the start with fewer loads wins), and takes
the first job of the one chosen. With nothing left for its
checkpoint it switches, unless that would only add a load while other nodes make the rest:
then it waits for the queue to change. Starvation is bounded: a node may take a job at most
`pass_limit` places after the queue's first, so no job is ever passed over by more than that
many later ones; a job moved to the front is taken first.

The scheduler knows per node of this process the checkpoint it last made an image with (a
node told so by its own answers, which `verify` checks; at the start of a run, the one its
options name) and feeds the speed model each job it finishes: the job's time when the node
had its checkpoint loaded already, else the extra time over the model's estimate as that
checkpoint's load time (see `speed_model`). Nodes of other processes sharing the queue are
not in its view: their jobs simply leave the queue.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import statistics
import time
from collections.abc import Collection
from dataclasses import dataclass, replace

from stablenew_tui.pipeline.batch_end import Lane, batch_end
from stablenew_tui.pipeline.claims import FIRST, Choice, QueueGlance
from stablenew_tui.pipeline.cluster import NodeHandle
from stablenew_tui.pipeline.job_runner import JobRunner
from stablenew_tui.pipeline.jobs import Job, Run
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.pipeline.speed_model import SpeedBook, job_work
from stablenew_tui.pipeline.stage_requests import job_model, pass_model
from stablenew_tui.webui.errors import WebUIError

log = logging.getLogger("stablenew.scheduler")
SAVE_SECONDS = 30.0  # the speed book is saved at least this often while jobs finish
ASK_SECONDS = 2.0  # a node that does not say what it holds by then is not waited for
PASS_LIMIT = 100  # places after the queue's first job that a node may claim from
# A switch must bring the batch's end forward by this share, and by half a job of the node.
SWITCH_MARGIN = 0.02
# Stages after txt2img that generate with the pass checkpoint (an extras upscale loads none).
_PASSES = ("img2img", "adetailer")


class Scheduler:
    def __init__(self, queue: JobQueue, speeds: SpeedBook, *, pass_limit: int = PASS_LIMIT):
        self.queue = queue
        self.speeds = speeds
        self.pass_limit = pass_limit
        self.loaded: dict[str, str | None] = {}  # node → checkpoint it holds, where known
        self.working: dict[str, str | None] = {}  # node → checkpoint of the job it makes
        self.serving: set[str] = set()  # nodes claiming for the run being made
        self._held_back: set[str] = set()
        self._models: dict[str, set[str | None]] = {}  # run id → the checkpoints its jobs name
        self._saved = time.monotonic()

    # -- claiming ------------------------------------------------------------------------

    async def start(self, run: Run, handles: Collection[NodeHandle]) -> None:
        """Ask every node what it holds before any claims, so the first choices see them all."""
        await asyncio.gather(*(self._join(run, handle) for handle in handles))

    async def claim(self, run: Run, handle: NodeHandle, skip: Collection[str]) -> Job | None:
        node = handle.name
        if node not in self.serving:  # a node added while the run goes on
            await self._join(run, handle)
        view, choices = self._view(run, node), []

        def choose(glance: QueueGlance) -> Choice:
            """In the claim's transaction, which serializes claims: what other nodes hold is
            read, and this node's choice recorded, with no claim in between."""
            holds = {name: self.loaded.get(name) for name in set(self.serving)}
            choice, model = _choose(replace(view, holds=holds | dict(self.working)), glance)
            if not choice.wait:
                self.working[node] = model
            choices.append(choice)
            return choice

        # In a thread: a claim waits for any write another worker is making to the disk.
        job = await asyncio.to_thread(self.queue.claim, run.id, node, skip, choose)
        self._held_back.discard(node)
        if job is not None:
            self.working[node] = job.spec.model
        else:
            self.working.pop(node, None)
            if choices and choices[-1].wait:
                self._held_back.add(node)
        return job

    def holding_back(self, node: str) -> bool:
        """Whether the node's last claim took nothing because other nodes make what is left
        better without it: it should look again when a job ends, not leave the run."""
        return node in self._held_back

    def ended(self, node: str) -> None:
        """The node's job ended, however."""
        self.working.pop(node, None)

    def leave(self, node: str) -> None:
        """The node claims no more for this run; the next run asks it what it holds again."""
        self.serving.discard(node)
        self.working.pop(node, None)
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

    def _view(self, run: Run, node: str) -> _View:
        """What the choice needs besides what the nodes hold, computed here: the speed book
        is not for the claim's thread."""
        nodes = self.serving | {node}
        known = {name: rate for name in nodes if (rate := self.speeds.rate(name))}
        models = self._models_of(run)
        return _View(
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

    def _models_of(self, run: Run) -> set[str | None]:
        if run.id not in self._models:
            self._models[run.id] = self.queue.models(run.id)
        return self._models[run.id]

    # -- learning ------------------------------------------------------------------------

    async def job_made(self, runner: JobRunner) -> None:
        """Learn from a job that ran to its end on its node."""
        if not runner.produced:
            return
        node, job, settings = runner.handle.name, runner.job, runner.run.settings
        seconds = runner.produced[-1].finished - runner.produced[0].started
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
        if time.monotonic() - self._saved >= SAVE_SECONDS:
            await self.save()

    async def save(self) -> None:
        self._saved = time.monotonic()
        await asyncio.to_thread(self.speeds.save)


@dataclass(frozen=True)
class _View:
    settings: PipelineSettings
    holds: dict[str, str | None]  # serving node → checkpoint it holds or makes a job with
    rates: dict[str, float]  # work per second, where known
    default_rate: float  # for a node not yet measured: the others' mean
    loads: dict[tuple[str, str], float]  # known load times
    pass_limit: int
    node: str  # the node claiming

    def load(self, node: str, model: str, one_job: float) -> float:
        """Its measured load time, else another node's for that checkpoint, else one job's
        time: a load takes about as long as an image on most setups."""
        if (node, model) in self.loads:
            return self.loads[node, model]
        others = [seconds for (_, name), seconds in self.loads.items() if name == model]
        return statistics.median(others) if others else one_job / self.rate(node)

    def rate(self, node: str) -> float:
        return self.rates.get(node, self.default_rate)


def _choose(view: _View, glance: QueueGlance) -> tuple[Choice, str | None]:
    """What the node claims, and the checkpoint of that job."""
    first = glance.first()
    if first is None or first.priority > 0 or first.model is None:
        return FIRST, first.model if first else None
    work = job_work(first.spec, view.settings)
    left = {model: count * work for model, count in glance.waiting().items() if model is not None}
    if set(left) == {view.holds.get(view.node)}:
        return FIRST, first.model  # nothing but its own checkpoint left
    target = _best_checkpoint(view, left, work, first.model)
    if target is None:
        return Choice(wait=True), None
    candidate = glance.first(target) if target != first.model else None
    if candidate is None or candidate.index - first.index > view.pass_limit:
        return FIRST, first.model
    return Choice(candidate.id), target


def _best_checkpoint(view: _View, left: dict[str, float], work: float, first: str) -> str | None:
    """The checkpoint the node makes the batch end soonest on (of equals: the one it holds,
    else the queue's first job's); None: better wait."""
    node, held = view.node, view.holds.get(view.node)

    def lane(name: str, model: str | None) -> Lane:
        load = functools.partial(view.load, name, one_job=work)
        ready = 0.0 if model in (None, view.holds.get(name)) else load(model)
        return Lane(model, view.rate(name), load, ready)

    others = [lane(name, model) for name, model in view.holds.items() if name != node]
    ends = {model: batch_end([*others, lane(node, model)], left) for model in left}
    if not ends:
        return None
    best = min(ends, key=lambda model: (ends[model], model != held, model != first))
    if held in ends:
        stay, move = ends[held], ends[best]
        margin = max(SWITCH_MARGIN * stay.end, 0.5 * work / view.rate(node))
        sooner = move.end < stay.end - margin
        return (
            best if sooner or (move.end <= stay.end + margin and move.loads < stay.loads) else held
        )
    # Joining would add a load and end nothing sooner, while others make what is left (a node
    # waiting on another that waits too would never start).
    serving = any(other.model in left for other in others)
    if serving and batch_end(others, left) <= ends[best]:
        return None
    return best


def _held_after(runner: JobRunner) -> str | None:
    """The checkpoint a node holds after making this job: the pass checkpoint when a later
    stage generated with it."""
    settings, job = runner.run.settings, runner.job
    generated = {output.stage for output in runner.produced}
    upscaled_by_img2img = "upscale" in generated and settings.upscale.method == "img2img"
    if upscaled_by_img2img or generated & set(_PASSES):
        return pass_model(settings, job)
    return job_model(settings, job)
