"""`encode_video`: images in, one MP4, WebM or GIF out, written atomically.

Frames reach ffmpeg through one concat list (never a glob), so a thousand images cost one
input, not a thousand. A crossfade is a moving average over `crossfade` seconds of frames
(tmix), which on still images is exactly a linear cross-dissolve between neighbours.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

from stablenew_tui.errors import InputError
from stablenew_tui.video.ffmpeg import ProgressCallback, find_ffmpeg, run_ffmpeg
from stablenew_tui.video.prepare import output_size, prepare_frames, write_concat_list
from stablenew_tui.video.settings import DEFAULT_CRF, VideoFormat, VideoResult, VideoSettings

T = TypeVar("T")


async def encode_video(
    frames: Sequence[str | Path],
    out: str | Path,
    settings: VideoSettings | None = None,
    *,
    ffmpeg: str | Path | None = None,
    on_progress: ProgressCallback | None = None,
) -> VideoResult:
    """Encode `frames` (in order) into `out`. Nothing appears under `out` until the file is
    complete; cancelling the task stops ffmpeg and leaves no file behind."""
    settings = settings or VideoSettings()
    images = [Path(frame) for frame in frames]
    if not images:
        raise InputError("no images to make a video from")
    out = Path(out)
    if out.is_dir():
        raise InputError("is a folder; the video needs a file name", source=str(out))
    started = time.monotonic()
    ffmpeg_path = await find_ffmpeg(settings.format.encoder, ffmpeg)
    size = await asyncio.to_thread(output_size, settings, images[0])
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(
            f"cannot create folder: {error.strerror}", source=str(out.parent)
        ) from None
    with tempfile.TemporaryDirectory(prefix="stablenew-video-") as work:
        work_dir = Path(work)
        uniform = await _in_thread_to_the_end(prepare_frames, images, size, work_dir)
        list_file = work_dir / "frames.ffconcat"
        write_concat_list(uniform, settings, list_file)
        partial = _partial_name(out)
        command = build_command(ffmpeg_path, list_file, settings, len(images), partial)
        try:
            frames_written = await run_ffmpeg(
                command, duration=settings.duration_for(len(images)), on_progress=on_progress
            )
            await asyncio.to_thread(_publish, partial, out)
        finally:
            partial.unlink(missing_ok=True)
    return VideoResult(
        path=out,
        format=settings.format,
        codec=settings.format.encoder,
        duration=frames_written / settings.fps,
        frames=frames_written,
        fps=settings.fps,
        size=size,
        images=images,
        settings=settings,
        bytes=out.stat().st_size,
        encode_seconds=time.monotonic() - started,
        ffmpeg=ffmpeg_path,
        command=command,
    )


def build_command(
    ffmpeg: Path, list_file: Path, settings: VideoSettings, images: int, out: Path
) -> list[str]:
    """The ffmpeg argument list for uniform frames listed in `list_file`."""
    concat_input = ["-f", "concat", "-safe", "0", "-i", str(list_file)]
    pixel_format = "rgb24" if settings.format is VideoFormat.GIF else "yuv420p"
    shown = f"[0:v]fps={settings.fps},setsar=1,format={pixel_format}"
    if settings.crossfade > 0:
        # A window one frame longer than the fade reaches the next image exactly at its end.
        shown += f",tmix=frames={settings.crossfade_frames + 1}"
    if settings.format is VideoFormat.GIF:
        # The palette comes from the stills (a second reading of the list, one frame per
        # image), so no frame of the full-length video has to be buffered until it is known.
        inputs = concat_input + concat_input
        graph = (
            f"{shown}[shown];[1:v]palettegen=reserve_transparent=0[palette];"
            "[shown][palette]paletteuse[v]"
        )
    else:
        inputs, graph = concat_input, f"{shown}[v]"
    return [
        str(ffmpeg),
        *("-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1"),
        "-y",
        *inputs,
        *("-filter_complex", graph, "-map", "[v]"),
        *("-frames:v", str(settings.frames_for(images))),
        *_codec_arguments(settings),
        str(out),
    ]


def _codec_arguments(settings: VideoSettings) -> list[str]:
    if settings.format is VideoFormat.GIF:
        return ["-c:v", "gif", "-f", "gif"]
    crf = str(settings.crf if settings.crf is not None else DEFAULT_CRF[settings.format])
    if settings.format is VideoFormat.MP4:
        # stillimage tunes x264 for slideshows; faststart lets players begin before the end.
        return [
            *("-c:v", "libx264", "-crf", crf, "-tune", "stillimage"),
            *("-movflags", "+faststart", "-f", "mp4"),
        ]
    # -b:v 0 makes -crf constant quality; cpu-used 4 with row-mt is several times faster
    # than libvpx's default for a barely visible loss.
    return [
        *("-c:v", "libvpx-vp9", "-crf", crf, "-b:v", "0"),
        *("-deadline", "good", "-cpu-used", "4", "-row-mt", "1", "-f", "webm"),
    ]


def _partial_name(out: Path) -> Path:
    # Same folder as the result, so the final rename is atomic; hidden, so no folder scan
    # (or a person) takes it for a finished video. ffmpeg creates it, with the usual mode.
    return out.parent / f".{out.name}.{secrets.token_hex(6)}.part"


def _publish(partial: Path, out: Path) -> None:
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, out)
    with contextlib.suppress(OSError):  # not every platform can open a folder to sync it
        folder = os.open(out.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


async def _in_thread_to_the_end(function: Callable[..., T], *args: object) -> T:
    """Run `function(*args, stop)` in a thread. On cancellation `stop` is set and the thread is
    waited for, because it may still be writing into a folder that is about to be removed."""
    stop = threading.Event()
    future = asyncio.get_running_loop().run_in_executor(None, partial(function, *args, stop))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        stop.set()
        while not future.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([future])
        if not future.cancelled():
            future.exception()  # retrieved, so asyncio does not log it: the cancel wins
        raise
