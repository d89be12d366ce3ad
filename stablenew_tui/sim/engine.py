"""The one-job-at-a-time machinery: the queue lock, simulated time and what /progress reports.

The WebUI runs one job at a time behind a FIFO lock; progress, interrupt and skip never take it.
`JobState` mirrors A1111's `shared.state` field for field, because clients read it as is.
Time is simulated with sleeps scaled by `speed`; at speed 0 nothing sleeps at all.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# One sampling step of one 1-megapixel image at speed 1 (a mid-range GPU on SD 1.5/SDXL).
SECONDS_PER_STEP_PER_MEGAPIXEL = 0.25


@dataclass
class PreviewSource:
    """Enough to redraw the image being sampled, for /progress's current_image."""

    prompt: str
    seed: int
    width: int
    height: int
    model: str


@dataclass
class JobState:
    job: str = ""
    job_count: int = 0
    job_no: int = 0
    job_timestamp: str = "0"
    sampling_step: int = 0
    sampling_steps: int = 0
    skipped: bool = False
    interrupted: bool = False
    time_start: float = 0.0
    textinfo: str | None = None
    preview: PreviewSource | None = None
    preview_cache: dict[tuple[int, int], str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """modules/shared_state.py `State.dict` (A1111 1.8+ and Forge)."""
        return {
            "skipped": self.skipped,
            "interrupted": self.interrupted,
            "stopping_generation": False,  # set only by the UI's "stop after this image"
            "job": self.job,
            "job_count": self.job_count,
            "job_timestamp": self.job_timestamp,
            "job_no": self.job_no,
            "sampling_step": self.sampling_step,
            "sampling_steps": self.sampling_steps,
        }


class GenerationEngine:
    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.state = JobState()
        self.waiting = 0  # requests queued behind the lock
        # Generation requests received and not answered yet, and the most there were at once:
        # a client that never sends a node two at once keeps it at 1.
        self.generating = 0
        self.most_generating = 0
        # SD.Next reports a task id: a fresh one per job, "" once one has ended, 0 before any.
        self.task_id = ""
        self.last_task_id: str | int = 0
        self._lock = asyncio.Lock()  # asyncio.Lock wakes waiters in FIFO order
        self._closing = False

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    @contextmanager
    def generation(self) -> Iterator[None]:
        """Count a txt2img or img2img request from its arrival to its answer."""
        self.generating += 1
        self.most_generating = max(self.most_generating, self.generating)
        try:
            yield
        finally:
            self.generating -= 1

    @asynccontextmanager
    async def queued(self) -> AsyncIterator[None]:
        """Hold the queue lock: generation, extras, refreshes and model switches."""
        self.waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._lock.release()

    async def spend(self, seconds_at_speed_1: float) -> None:
        """Let simulated work take its time; returns at once at speed 0 or while shutting down."""
        if self.speed > 0 and seconds_at_speed_1 > 0 and not self._closing:
            await asyncio.sleep(seconds_at_speed_1 / self.speed)

    def begin(self, job: str, job_count: int = -1) -> None:
        """A1111's `State.begin` leaves job_count at -1 until processing counts the jobs."""
        self.task_id = uuid.uuid4().hex[:15]
        self.state = JobState(
            job=job,
            job_count=job_count,
            job_timestamp=datetime.now().strftime("%Y%m%d%H%M%S"),
            time_start=time.time(),
            interrupted=self._closing,
        )

    def next_job(self, job_no: int, label: str | None, preview: PreviewSource | None) -> None:
        """Start sampling job `job_no`; `label` replaces the job name when given."""
        state = self.state
        state.job_no, state.preview = job_no, preview
        if label is not None:
            state.job = label
        state.skipped = False
        state.sampling_step = state.sampling_steps = 0

    def end(self) -> None:
        """A1111's `State.end` clears only the job name and count: the rest of the state, as the
        last pass's `nextjob()` left it, shows in /progress until the next job begins."""
        state = self.state
        self.state = JobState(
            job_timestamp=state.job_timestamp,
            job_no=state.job_no + 1 if state.sampling_steps else 0,
            sampling_steps=state.sampling_steps,
            skipped=state.skipped,
            interrupted=state.interrupted,
        )
        self.last_task_id = ""

    async def sample(self, steps: int, megapixels: float) -> int:
        """Run `steps` sampling steps over `megapixels` (all images of the batch); returns how
        many ran before an interrupt or a skip stopped them."""
        state = self.state
        state.sampling_steps, state.sampling_step = steps, 0
        seconds_per_step = megapixels * SECONDS_PER_STEP_PER_MEGAPIXEL
        if self.speed <= 0 or self._closing:
            state.sampling_step = 0 if state.interrupted else steps
            return state.sampling_step
        for step in range(1, steps + 1):
            if state.interrupted or state.skipped:
                break
            await self.spend(seconds_per_step)
            state.sampling_step = step
        return state.sampling_step

    def interrupt(self) -> None:
        """Stop the running job. When idle the flag is set all the same and shows in /progress;
        the next job's `begin` clears it (modules/shared_state.py `State.interrupt`)."""
        self.state.interrupted = True

    def skip(self) -> None:
        self.state.skipped = True

    def shut_down(self) -> None:
        """Make the running job and every queued one finish at once."""
        self._closing = True
        self.state.interrupted = True

    def progress(self) -> tuple[float, float]:
        """(progress 0..1, eta_relative in seconds), by A1111's own formula."""
        state = self.state
        if state.job_count == 0:
            return 0.0, 0.0
        progress = 0.01 + state.job_no / state.job_count
        if state.sampling_steps > 0:
            progress += state.sampling_step / state.sampling_steps / state.job_count
        elapsed = time.time() - state.time_start
        eta_relative = elapsed / progress - elapsed
        return min(progress, 1.0), eta_relative
