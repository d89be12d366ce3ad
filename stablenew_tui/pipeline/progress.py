"""Polls a node's progress beside a running request and turns it into events.

At most twice a second, and only while a request is in flight: the WebUI answers `/progress`
outside its generation lock, so polling never slows the job down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from stablenew_tui.atomic import write_bytes_atomic
from stablenew_tui.pipeline.cluster import NodeHandle
from stablenew_tui.pipeline.events import EventStream, StageProgress
from stablenew_tui.pipeline.jobs import Job, slugify
from stablenew_tui.webui.errors import WebUIError
from stablenew_tui.webui.images import base64_bytes, sniff_format

MIN_POLL_INTERVAL = 0.5


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

    @contextlib.asynccontextmanager
    async def watch(self, handle: NodeHandle, job: Job, stage: str) -> AsyncIterator[None]:
        task = asyncio.create_task(self._poll(handle, job, stage))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _poll(self, handle: NodeHandle, job: Job, stage: str) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                progress = await handle.client.progress(with_preview=self.preview_dir is not None)
            except WebUIError:
                continue  # the request itself will report a real problem
            state = progress.state
            if state.sampling_steps <= 0:
                continue
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
