"""The optional tail of a run: its final images joined into one clip.

Runs when every job of the run has ended and at least one image exists. The video gets a
manifest line and a learning record like any stage; a failure is reported, never raised,
because the images it would have joined are already safe.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

from stablenew_tui.errors import StableNewError
from stablenew_tui.learning.records import RecordWriter
from stablenew_tui.pipeline.events import (
    EventStream,
    VideoDone,
    VideoFailed,
    VideoProgressed,
    VideoStarted,
)
from stablenew_tui.pipeline.jobs import Run
from stablenew_tui.pipeline.outputs import RunOutputs
from stablenew_tui.video import VideoProgress, VideoResult, collect_frames, encode_video

VIDEO_STAGE = "video"


async def make_run_video(
    run: Run, events: EventStream, records: RecordWriter, ffmpeg: Path | None = None
) -> VideoResult | None:
    folder = Path(run.folder)
    settings = run.settings.video
    try:
        frames = collect_frames(folder)
    except StableNewError as error:
        events.publish(VideoFailed(run.id, str(error)))
        return None
    out = folder / f"{VIDEO_STAGE}.{settings.format.value}"
    events.publish(VideoStarted(run.id, len(frames), str(out)))
    started = time.time()

    def progressed(progress: VideoProgress) -> None:
        events.publish(VideoProgressed(run.id, progress.fraction, progress.speed))

    try:
        result = await encode_video(frames, out, settings, ffmpeg=ffmpeg, on_progress=progressed)
    except StableNewError as error:
        events.publish(VideoFailed(run.id, str(error)))
        return None
    finished = time.time()
    await asyncio.to_thread(_write_results, run, result, records, started, finished)
    events.publish(VideoDone(run.id, str(result.path), result.duration, finished - started))
    return result


def _write_results(
    run: Run, result: VideoResult, records: RecordWriter, started: float, finished: float
) -> None:
    outputs = RunOutputs(Path(run.folder))
    described = result.model_dump(mode="json", exclude={"path", "images", "ffmpeg", "command"})
    images = [outputs.relative(image) for image in result.images]
    outputs.append_manifest(
        [
            {
                "run_id": run.id,
                "stage": VIDEO_STAGE,
                **described,
                "images": images,
                "started": started,
                "finished": finished,
                "seconds": round(finished - started, 3),
                "path": outputs.relative(result.path),
                "sha256": _sha256(result.path),
            }
        ]
    )
    records.append(
        [
            {
                "time": finished,
                "run_id": run.id,
                "stage": VIDEO_STAGE,
                "inputs": {"settings": described["settings"], "images": images},
                "outputs": {
                    "paths": [str(result.path)],
                    "duration": result.duration,
                    "frames": result.frames,
                },
                "timings": {"started": started, "finished": finished},
            }
        ]
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
