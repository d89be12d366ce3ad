"""Typed engine events on an async stream.

Events are small and carry paths, never image bytes. Every subscriber gets every event in
order; the TUI, the CLI progress printer and `--json` are all just subscribers.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.kind, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class RunStarted(Event):
    kind: ClassVar[str] = "run_started"
    run_id: str
    folder: str
    total: int
    remaining: int


@dataclass(frozen=True)
class RunWaiting(Event):
    """Another live process is making this run; this one waits for it to end or vanish."""

    kind: ClassVar[str] = "run_waiting"
    run_id: str
    holder: str


@dataclass(frozen=True)
class StageStarted(Event):
    kind: ClassVar[str] = "stage_started"
    job_id: str
    index: int
    stage: str
    node: str


@dataclass(frozen=True)
class StageProgress(Event):
    kind: ClassVar[str] = "progress"
    job_id: str
    index: int
    stage: str
    node: str
    step: int
    steps: int
    fraction: float
    eta_seconds: float | None
    preview_path: str | None = None


@dataclass(frozen=True)
class StageDone(Event):
    kind: ClassVar[str] = "stage_done"
    job_id: str
    index: int
    stage: str
    node: str
    paths: list[str]
    seconds: float


@dataclass(frozen=True)
class JobDone(Event):
    kind: ClassVar[str] = "job_done"
    job_id: str
    index: int
    node: str
    paths: list[str]
    prompt: str
    seed: int
    overhead_ms: float = 0.0  # our time making its images, manifest lines and records durable


@dataclass(frozen=True)
class JobFailed(Event):
    kind: ClassVar[str] = "job_failed"
    job_id: str
    index: int
    node: str
    stage: str
    reason: str
    will_retry: bool = False


@dataclass(frozen=True)
class RunEstimate(Event):
    """When the run should end, from the nodes' speeds: the work left (running jobs' rest
    included) spread over the nodes, checkpoint loads counted. Sent as jobs end."""

    kind: ClassVar[str] = "run_estimate"
    run_id: str
    seconds: float  # from when it was sent


@dataclass(frozen=True)
class CopyStarted(Event):
    """At the tail of a run, an idle node makes a job another node is making too: the first
    result is kept."""

    kind: ClassVar[str] = "copy_started"
    job_id: str
    index: int
    node: str
    other: str  # the node making it already


@dataclass(frozen=True)
class CopyLost(Event):
    """The job was made first on another node: what this one made of it is discarded."""

    kind: ClassVar[str] = "copy_lost"
    job_id: str
    index: int
    node: str


@dataclass(frozen=True)
class JobSkipped(Event):
    kind: ClassVar[str] = "job_skipped"
    job_id: str
    index: int
    node: str


@dataclass(frozen=True)
class Interrupted(Event):
    kind: ClassVar[str] = "interrupted"
    job_id: str
    index: int
    node: str


@dataclass(frozen=True)
class NodeStatus(Event):
    kind: ClassVar[str] = "node_status"
    node: str
    state: str  # DISCONNECTED, CONNECTING, READY or BUSY
    detail: str = ""
    server: str = ""  # flavor and version, once known
    model: str = ""  # the checkpoint loaded there, once known


@dataclass(frozen=True)
class NodeBreaker(Event):
    """A node's breaker opened (`out`: the run takes it out, leaves it alone for a while,
    then probes it) or closed again (it answered and takes the run's jobs). The node may
    answer its monitor all along: this, not its `NodeStatus`, says whether the run uses it."""

    kind: ClassVar[str] = "node_breaker"
    node: str
    out: bool


@dataclass(frozen=True)
class VideoStarted(Event):
    kind: ClassVar[str] = "video_started"
    run_id: str
    images: int
    out: str


@dataclass(frozen=True)
class VideoProgressed(Event):
    kind: ClassVar[str] = "video_progress"
    run_id: str
    fraction: float
    speed: float | None


@dataclass(frozen=True)
class VideoDone(Event):
    kind: ClassVar[str] = "video_done"
    run_id: str
    path: str
    duration: float
    seconds: float


@dataclass(frozen=True)
class VideoFailed(Event):
    kind: ClassVar[str] = "video_failed"
    run_id: str
    reason: str


@dataclass(frozen=True)
class LocalFailure(Event):
    """A write to this machine's storage failed (a full disk): the job in hand went back to
    the queue and the run stops, or in an interactive session pauses until resumed."""

    kind: ClassVar[str] = "local_failure"
    run_id: str
    problem: str  # "no space left on the disk holding …"
    fix: str  # "free space"


@dataclass(frozen=True)
class RunFinished(Event):
    kind: ClassVar[str] = "run_finished"
    run_id: str
    folder: str
    counts: dict[str, int] = field(default_factory=dict)
    stopped: bool = False
    taken_over_by: str = ""  # another process took the run over while this one was stalled


class EventStream:
    """Fan-out of events to any number of subscribers; publishing never blocks."""

    def __init__(self) -> None:
        self._subscribers: list[asyncio.Queue[Event | None]] = []

    def publish(self, event: Event) -> None:
        for queue in self._subscribers:
            queue.put_nowait(event)

    def close(self) -> None:
        for queue in self._subscribers:
            queue.put_nowait(None)

    def subscribe_queue(self) -> asyncio.Queue[Event | None]:
        """A queue that receives every event from now on (None when the stream closes)."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue
