"""The run being made, in words short enough to read from across the room: how many images
are left, when it should end, what each node is doing, and which nodes the run's breaker
took out.

The ETA is the engine's estimate from the nodes' measured speeds (`RunEstimate`: the work
left over each node's rate, checkpoint loads counted), counted down between estimates. Until
one comes (no node's speed known yet), it is this run's own pace: the time since its first
image started, divided by the images finished since, shown once the first image finished.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from stablenew_tui.pipeline.events import (
    CopyLost,
    Event,
    Interrupted,
    JobDone,
    JobFailed,
    JobSkipped,
    NodeBreaker,
    RunEstimate,
    RunFinished,
    RunStarted,
    StageProgress,
    StageStarted,
)


class RunStatus:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.left: int | None = None  # None: no run is being made
        self.finished = 0  # images finished (or given up) since the run started here
        self.activity: dict[str, str] = {}  # node → what it is making now
        self.out: set[str] = set()  # nodes the run's breaker took out, until it lets them back
        self._began: float | None = None  # when the run's first image started
        self._pace: float | None = None  # seconds per image, measured
        self._estimate: tuple[float, float] | None = None  # (seconds left, when said)

    def update(self, events: Iterable[Event]) -> None:
        for event in events:
            self._apply(event)

    def _apply(self, event: Event) -> None:
        match event:
            case RunStarted():
                self.left, self.finished = event.remaining, 0
                self._began = self._pace = self._estimate = None
                self.activity.clear()
                self.out.clear()
            case StageStarted():
                if self._began is None:
                    self._began = self.clock()
                self.activity[event.node] = f"#{event.index + 1} {event.stage}"
            case StageProgress():
                self.activity[event.node] = (
                    f"#{event.index + 1} {event.stage} {event.step}/{event.steps}"
                )
            case JobDone() | JobSkipped():
                self._image_finished(event.node)
            case JobFailed():
                self.activity.pop(event.node, None)
                if not event.will_retry:
                    self._image_finished(None)
            case Interrupted() | CopyLost():
                self.activity.pop(event.node, None)
            case RunEstimate():
                self._estimate = (event.seconds, self.clock())
            case NodeBreaker(node=node, out=True):
                self.out.add(node)
            case NodeBreaker(node=node):
                self.out.discard(node)
            case RunFinished():  # a breaker holds for one run
                self.left = self._pace = self._estimate = None
                self.activity.clear()
                self.out.clear()

    def _image_finished(self, node: str | None) -> None:
        if node is not None:
            self.activity.pop(node, None)
        if self.left is None:
            return
        self.left = max(self.left - 1, 0)
        self.finished += 1
        if self._began is not None:
            self._pace = (self.clock() - self._began) / self.finished

    @property
    def eta_seconds(self) -> float | None:
        if self.left is None:
            return None
        if self._estimate is not None:
            seconds, said = self._estimate
            return max(seconds - (self.clock() - said), 0.0)
        return None if self._pace is None else self.left * self._pace

    def summary(self, *, with_eta: bool = True) -> str:
        """`17 left · ETA 2m05s`; `17 left` until the pace is known, or without `with_eta`
        (while the run is held up, when an ETA would count down nothing); empty with no
        run."""
        if self.left is None:
            return ""
        eta = self.eta_seconds if with_eta else None
        return f"{self.left} left" + (f" · ETA {duration(eta)}" if eta is not None else "")


def duration(seconds: float) -> str:
    """`45s`, `2m05s`, `1h12m`: as short as a glance needs."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
