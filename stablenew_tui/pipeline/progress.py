"""Polls a node's progress beside a running request, turns it into events and notices stalls.

At most twice a second, and only while a request is in flight: the WebUI answers `/progress`
outside its generation lock, so polling never slows the job down.

A generation whose `/progress` stands still for `[client] stall_timeout` seconds is cut off:
the node is told to interrupt, the request is abandoned and `WebUIStalled` raised, which the
engine treats as transient (the job goes back to the queue). A request whose job was made
first on another node (a tail copy, `tail`) is abandoned once its node has had a moment to
take the interrupt (`abandon`): a hung node never answers, and must not hold the run open.

Anything that changes counts as progress: a step, the next job of a batch, a new job of any
client's (the node is busy with it, not stuck). An upscale through the extras API reports no
steps until it ends (`modules/postprocessing.py` run_postprocessing sets the job once, then
only per image), so only the read timeout bounds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.atomic import write_bytes_atomic
from stablenew_tui.errors import StableNewError
from stablenew_tui.pipeline.cluster import NodeHandle
from stablenew_tui.pipeline.events import EventStream, StageProgress
from stablenew_tui.pipeline.jobs import Job, slugify
from stablenew_tui.webui.errors import WebUIError, WebUIStalled
from stablenew_tui.webui.images import base64_bytes, sniff_format
from stablenew_tui.webui.models import Progress

log = logging.getLogger("stablenew.engine")

MIN_POLL_INTERVAL = 0.5
# How long a stalled node gets to take the interrupt before the job moves on without it.
INTERRUPT_WAIT = 10.0


class MadeElsewhere(StableNewError):
    """The job was made first on another node; this node's request for it was given up."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} was made first on another node")


@dataclass
class StallClock:
    """Since when a request's progress has stood still."""

    timeout: float  # 0: never a stall
    mark: tuple[Any, ...] | None = None
    since: float = field(default_factory=time.monotonic)
    tripped: bool = False
    abandoned: bool = False  # the job was made elsewhere: the request is given up

    def stalled(self, progress: Progress | None) -> bool:
        """Note what a poll saw (None: the poll failed, which is no progress either) and
        whether the request has now stood still for too long."""
        now = time.monotonic()
        if progress is not None:
            state = progress.state
            mark = (
                progress.progress, state.job, state.job_no, state.job_count,
                state.job_timestamp, state.sampling_step, state.sampling_steps,
            )  # fmt: skip
            if mark != self.mark:
                self.mark, self.since = mark, now
        return self.timeout > 0 and now - self.since >= self.timeout


class ProgressPoller:
    def __init__(
        self,
        events: EventStream,
        *,
        interval: float = MIN_POLL_INTERVAL,
        preview_dir: Path | None = None,
    ) -> None:
        self.events = events
        self.interval = max(interval, MIN_POLL_INTERVAL)
        self.preview_dir = preview_dir  # None: no live previews are fetched
        # (job id, node) → the clock and deadline of the request being made
        self._watched: dict[tuple[str, str], tuple[StallClock, asyncio.Timeout]] = {}

    @contextlib.asynccontextmanager
    async def watch(
        self, handle: NodeHandle, job: Job, stage: str, *, reports_steps: bool = True
    ) -> AsyncIterator[None]:
        """Publish the progress of the request made inside the block; when it `reports_steps`
        (a generation), cut it off with WebUIStalled once it stands still too long."""
        timeout = handle.client.settings.stall_timeout if reports_steps else 0.0
        clock = StallClock(timeout)
        watched = (job.id, handle.name)
        try:
            async with asyncio.timeout(None) as deadline:
                self._watched[watched] = (clock, deadline)
                task = asyncio.create_task(self._poll(handle, job, stage, clock, deadline))
                try:
                    yield
                finally:
                    del self._watched[watched]
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        except TimeoutError:
            if clock.abandoned:
                raise MadeElsewhere(job.id) from None
            if not clock.tripped:
                raise
            reason = f"{stage} stalled: no progress for {timeout:g} s; interrupted"
            log.warning("%s %s: %s", handle.name, job.id, reason)
            raise WebUIStalled(handle.name, reason) from None

    def abandon(self, job_id: str, node: str, grace: float) -> None:
        """`node` has been told to stop making `job_id`, which another node made: its request
        is given up unless it ends within `grace` seconds (`MadeElsewhere`)."""
        watched = self._watched.get((job_id, node))
        if watched is not None:
            clock, deadline = watched
            clock.abandoned = True
            deadline.reschedule(asyncio.get_running_loop().time() + grace)

    async def _poll(
        self, handle: NodeHandle, job: Job, stage: str, clock: StallClock,
        deadline: asyncio.Timeout,
    ) -> None:  # fmt: skip
        while True:
            await asyncio.sleep(self.interval)
            progress: Progress | None
            try:
                progress = await handle.client.progress(with_preview=self.preview_dir is not None)
            except WebUIError:
                progress = None  # the request itself will report a real problem
            if clock.stalled(progress):
                clock.tripped = True
                # Told before its request is dropped: the client then has nothing to add.
                with contextlib.suppress(WebUIError, TimeoutError):
                    await asyncio.wait_for(handle.client.interrupt(), INTERRUPT_WAIT)
                deadline.reschedule(asyncio.get_running_loop().time())
                return
            if progress is None or progress.state.sampling_steps <= 0:
                continue
            state = progress.state
            preview = self._save_preview(handle.name, progress.current_image)
            self.events.publish(
                StageProgress(
                    job_id=job.id,
                    index=job.index,
                    stage=stage,
                    node=handle.name,
                    step=state.sampling_step,
                    steps=state.sampling_steps,
                    fraction=max(0.0, min(1.0, progress.progress)),
                    eta_seconds=progress.eta_relative,
                    preview_path=preview,
                )
            )

    def _save_preview(self, node: str, image: str | None) -> str | None:
        if self.preview_dir is None or not image:
            return None
        try:
            data = base64_bytes(image)
        except ValueError:
            return None
        # Previews come in the server's samples_format, like every image it sends.
        image_format = sniff_format(data)
        if image_format is None:
            return None
        path = self.preview_dir / f"{slugify(node)}{image_format.extension}"
        write_bytes_atomic(path, data)
        return str(path)
