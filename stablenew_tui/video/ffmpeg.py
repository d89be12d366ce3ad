"""Finding a usable ffmpeg and running it: progress reports, cancellation, readable failures."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
from collections import deque
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg

from stablenew_tui.errors import InputError, StableNewError
from stablenew_tui.video.settings import VideoProgress

ProgressCallback = Callable[[VideoProgress], None]

STDERR_TAIL_LINES = 12
# ffmpeg answers SIGTERM by draining its filters, which can mean encoding the rest of a long
# still; the output is discarded anyway, so it gets a moment to exit and is then killed.
TERMINATE_GRACE_SECONDS = 1.0
PROBE_TIMEOUT_SECONDS = 30.0


class FfmpegError(StableNewError):
    """ffmpeg could not be found or failed; the message carries its last words."""


async def find_ffmpeg(encoder: str, configured: str | Path | None = None) -> Path:
    """The ffmpeg to use: `configured` (a path or a command name) if given, else the first of
    `PATH` and the binary shipped with imageio-ffmpeg that has `encoder`."""
    if configured:
        path = _configured_path(str(configured))
        problem = await _encoder_problem(path, encoder)
        if problem:
            raise InputError(problem, source=str(path))
        return path
    tried = []
    for candidate in _default_candidates():
        problem = await _encoder_problem(candidate, encoder)
        if problem is None:
            return candidate
        tried.append(f"{candidate} {problem}")
    raise FfmpegError(
        f"no ffmpeg with the {encoder} encoder found ({'; '.join(tried) or 'none on PATH'}); "
        "install one or pass its path"
    )


def _configured_path(text: str) -> Path:
    if not any(separator in text for separator in (os.sep, os.altsep) if separator):
        found = shutil.which(text)  # a bare command name, looked up like a shell would
        if found is None:
            raise InputError("ffmpeg not found on PATH", source=text)
        return Path(found)
    path = Path(text).expanduser().absolute()  # "ffmpeg" alone would be run from PATH
    if not path.is_file():
        raise InputError("ffmpeg not found: no such file", source=str(path))
    if not os.access(path, os.X_OK):
        raise InputError("ffmpeg is not executable", source=str(path))
    return path


def _default_candidates() -> list[Path]:
    candidates = []
    if found := shutil.which("ffmpeg"):
        candidates.append(Path(found))
    with contextlib.suppress(RuntimeError):  # raised when no binary was shipped for this OS
        candidates.append(Path(imageio_ffmpeg.get_ffmpeg_exe()))
    return candidates


async def _encoder_problem(ffmpeg: Path, encoder: str) -> str | None:
    """Why `ffmpeg` cannot encode with `encoder`, or None when it can."""
    try:
        process = await asyncio.create_subprocess_exec(
            str(ffmpeg),
            "-hide_banner",
            "-encoders",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError as error:
        return f"cannot be run: {error.strerror or error}"
    try:
        output, _ = await asyncio.wait_for(process.communicate(), PROBE_TIMEOUT_SECONDS)
    except TimeoutError:
        await stop_process(process)
        return f"did not answer `-encoders` within {PROBE_TIMEOUT_SECONDS:g} s"
    except BaseException:
        await stop_process(process)
        raise
    listing = output.decode(errors="replace")
    if process.returncode != 0 or "Encoders:" not in listing:
        return "is not a working ffmpeg (`-encoders` failed)"
    if not re.search(rf"^\s*V\S*\s+{re.escape(encoder)}\s", listing, re.MULTILINE):
        return f"has no {encoder} encoder"
    return None


async def run_ffmpeg(
    command: list[str], *, duration: float, on_progress: ProgressCallback | None = None
) -> int:
    """Run `command`, which must include `-progress pipe:1`, and return the frames it wrote.

    Cancelling the awaiting task stops ffmpeg (terminate, then kill) before the cancellation
    goes on. A non-zero exit raises `FfmpegError` with the last lines ffmpeg printed."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        # Its own session keeps a terminal's Ctrl-C away from ffmpeg; this process stops it.
        start_new_session=os.name == "posix",
    )
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    try:
        frames, _ = await asyncio.gather(
            _read_progress(process.stdout, duration, on_progress),
            _read_tail(process.stderr, tail),
        )
        returncode = await process.wait()
    except BaseException:
        await stop_process(process)
        raise
    if returncode != 0:
        said = "\n  ".join(tail) or "(nothing on stderr)"
        raise FfmpegError(f"ffmpeg failed with exit code {returncode}:\n  {said}")
    return frames


async def stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), TERMINATE_GRACE_SECONDS)
    except TimeoutError:
        pass
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def _read_progress(
    stream: asyncio.StreamReader | None, duration: float, on_progress: ProgressCallback | None
) -> int:
    """Parse `-progress` output: blocks of key=value lines, each closed by `progress=...`."""
    assert stream is not None
    values: dict[str, str] = {}
    frames = 0
    async for raw in stream:
        key, _, value = raw.decode(errors="replace").strip().partition("=")
        if key != "progress":
            values[key] = value
            continue
        report = parse_progress(values, duration, done=value == "end")
        frames = report.frame
        if on_progress is not None:
            on_progress(report)
    return frames


def parse_progress(values: dict[str, str], duration: float, *, done: bool) -> VideoProgress:
    out_time = _number(values.get("out_time_us", "")) / 1_000_000
    speed_text = values.get("speed", "").strip().removesuffix("x")
    fraction = 1.0 if done else min(1.0, out_time / duration) if duration > 0 else 0.0
    return VideoProgress(
        fraction=max(0.0, fraction),
        out_time=max(0.0, out_time),
        duration=duration,
        frame=int(_number(values.get("frame", ""))),
        speed=_number(speed_text) if speed_text not in ("", "N/A") else None,
        done=done,
    )


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # "N/A" before the first frame
        return 0.0


async def _read_tail(stream: asyncio.StreamReader | None, tail: deque[str]) -> None:
    assert stream is not None
    async for raw in stream:
        if line := raw.decode(errors="replace").rstrip():
            tail.append(line)
