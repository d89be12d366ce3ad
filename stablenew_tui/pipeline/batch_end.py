"""When a batch over several checkpoints would end, for a given start: a fluid estimate.

Each node works on one checkpoint's queued jobs at its rate (work per second), after the load
it is making, if any. When a checkpoint's jobs run out, its nodes move on, each to the
checkpoint whose end it brings forward most, paying that load, and only where that helps: a
node that would only add a load waits. The estimate ignores that jobs are whole; it is
meant to compare starts (stay on the loaded checkpoint, or switch now), not to be a clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

_EPSILON = 1e-9


class Estimate(NamedTuple):
    """When the batch ends (inf: never) and how many loads it takes from here: of two starts
    that end together, the one with fewer loads is better."""

    end: float
    loads: int


@dataclass
class Lane:
    """One node in the estimate: the checkpoint it works on (None: none yet), its rate, when
    it can start (its load ends), and its load time for any checkpoint."""

    model: str | None
    rate: float
    load: Callable[[str], float]
    ready: float = 0.0


def batch_end(lanes: list[Lane], remaining: dict[str, float]) -> Estimate:
    """When every checkpoint's `remaining` work is made, counting the loads under way
    (lanes not yet ready) and those to come."""
    left = {model: work for model, work in remaining.items() if work > _EPSILON}
    lanes = [Lane(lane.model, lane.rate, lane.load, lane.ready) for lane in lanes]
    now, loads = 0.0, sum(1 for lane in lanes if lane.ready > 0)
    # Each round ends a checkpoint or a load: at most one load per lane per checkpoint ended.
    for _ in range((len(lanes) + 1) * (len(left) + 2)):
        loads += _move_free_lanes(lanes, left, now)
        if not left:
            return Estimate(now, loads)
        pace = {model: 0.0 for model in left}
        for lane in lanes:
            if lane.model in left and lane.ready <= now + _EPSILON:
                pace[lane.model] += lane.rate
        steps = [left[model] / rate for model, rate in pace.items() if rate > 0]
        steps += [lane.ready - now for lane in lanes if lane.model in left and lane.ready > now]
        if not steps:
            return Estimate(math.inf, loads)
        step = min(steps)
        now += step
        for model, rate in pace.items():
            left[model] -= rate * step
            if left[model] <= _EPSILON * max(1.0, remaining[model]):
                del left[model]
    return Estimate(math.inf, loads)


def drain_time(work: float, lanes: list[tuple[float, float]]) -> float:
    """Seconds to make `work` with lanes (ready at, rate) joining as they become ready."""
    done_at, rate, left = 0.0, 0.0, work
    for ready, lane_rate in sorted(lanes):
        if rate > 0 and left / rate <= ready - done_at:
            return done_at + left / rate
        left -= rate * max(ready - done_at, 0.0)
        done_at, rate = max(ready, done_at), rate + lane_rate
    return done_at + left / rate if rate > 0 else math.inf


def _move_free_lanes(lanes: list[Lane], left: dict[str, float], now: float) -> int:
    """Lanes whose checkpoint has nothing left join the one whose end they bring forward
    most, if any; returns how many load a checkpoint for it."""
    loads = 0
    for lane in sorted(lanes, key=lambda lane: -lane.rate):
        if lane.model in left:
            continue
        best, best_gain = None, _EPSILON
        for model, work in left.items():
            serving = [(max(o.ready - now, 0.0), o.rate) for o in lanes if o.model == model]
            without = drain_time(work, serving)
            joined = drain_time(work, [*serving, (lane.load(model), lane.rate)])
            gain = without - joined if math.isfinite(without) else math.inf
            if gain > best_gain:
                best, best_gain = model, gain
        if best is not None:
            lane.model, lane.ready = best, now + lane.load(best)
            loads += lane.ready > now
    return loads
