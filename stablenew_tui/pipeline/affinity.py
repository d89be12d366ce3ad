"""Model affinity: which job a node claims, judged by when the batch would end.

While jobs for several checkpoints wait, a node weighs its options with the speed model
(`batch_end`): stay on the checkpoint it holds, or switch to another now, whichever makes the
batch end sooner (a switch must win by a margin, so noise does not make nodes flap between
checkpoints; within the margin, the start with fewer loads wins), and takes the first job of
the one chosen. With nothing left for its checkpoint it switches, unless that would only add a
load while other nodes make the rest: then it waits for the queue to change. Starvation is
bounded: the job at the head of the queue is passed over at most `pass_limit` times (however
far behind it the job taken instead lies: a grouped batch keeps its second checkpoint's jobs
far back), then the next claim takes it; so every job, once at the head, is made after at most
that many others. A job moved to the front is taken first.

Everything here is decided inside the claim's transaction, from a `View` of the nodes the
scheduler copied for it.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field

from stablenew_tui.pipeline.batch_end import Lane, batch_end
from stablenew_tui.pipeline.claims import FIRST, Choice, QueueGlance
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.pipeline.speed_model import job_work

# A switch must bring the batch's end forward by this share, and by half a job of the node.
SWITCH_MARGIN = 0.02


@dataclass(frozen=True)
class View:
    settings: PipelineSettings
    holds: dict[str, str | None]  # serving node → checkpoint it holds or makes a job with
    rates: dict[str, float]  # work per second, where known
    default_rate: float  # for a node not yet measured: the others' mean
    loads: dict[tuple[str, str], float]  # known load times
    pass_limit: int
    node: str  # the node claiming
    passed: Mapping[str, int] = field(default_factory=dict)  # job id → times passed at the head

    def load(self, node: str, model: str, one_job: float) -> float:
        """Its measured load time, else another node's for that checkpoint, else one job's
        time: a load takes about as long as an image on most setups."""
        if (node, model) in self.loads:
            return self.loads[node, model]
        others = [seconds for (_, name), seconds in self.loads.items() if name == model]
        return statistics.median(others) if others else one_job / self.rate(node)

    def rate(self, node: str) -> float:
        return self.rates.get(node, self.default_rate)

    def lane(self, node: str, model: str | None, one_job: float, busy: float = 0.0) -> Lane:
        """The node in a `batch_end` estimate, on `model` (loading it unless it holds it)
        once its job in hand ends, `busy` seconds from now."""
        load = functools.partial(self.load, node, one_job=one_job)
        switch = 0.0 if model in (None, self.holds.get(node)) else load(model)
        return Lane(model, self.rate(node), load, busy + switch)


def choose(view: View, glance: QueueGlance) -> tuple[Choice, str | None]:
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
    if candidate is None or view.passed.get(first.id, 0) >= view.pass_limit:
        return FIRST, first.model
    return Choice(candidate.id), target


def _best_checkpoint(view: View, left: dict[str, float], work: float, first: str) -> str | None:
    """The checkpoint the node makes the batch end soonest on (of equals: the one it holds,
    else the queue's first job's); None: better wait."""
    node, held = view.node, view.holds.get(view.node)

    others = [view.lane(name, model, work) for name, model in view.holds.items() if name != node]
    ends = {model: batch_end([*others, view.lane(node, model, work)], left) for model in left}
    if not ends:
        return None
    best = min(ends, key=lambda model: (ends[model], model != held, model != first))
    if held in ends:
        stay, move = ends[held], ends[best]
        margin = max(SWITCH_MARGIN * stay.end, 0.5 * work / view.rate(node))
        sooner = move.end < stay.end - margin
        as_soon_with_fewer_loads = move.end <= stay.end + margin and move.loads < stay.loads
        return best if sooner or as_soon_with_fewer_loads else held
    # Joining would add a load and end nothing sooner, while others make what is left (a node
    # waiting on another that waits too would never start).
    serving = any(other.model in left for other in others)
    if serving and batch_end(others, left) <= ends[best]:
        return None
    return best
