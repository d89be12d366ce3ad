"""`stablenew video`: join a run's images (or any images) into an MP4, WebM or GIF."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import TextIO

from stablenew_tui.errors import InputError
from stablenew_tui.video import (
    VideoFormat,
    VideoProgress,
    VideoResult,
    collect_frames,
    encode_video,
    validated_settings,
)

_FORMAT_BY_SUFFIX = {f".{video_format.value}": video_format for video_format in VideoFormat}
# Without a terminal, progress goes out as one plain line per this many percent.
_PLAIN_LINE_STEP = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "video",
        description="Join images into a video with ffmpeg. An INPUT is a run folder (its last "
        "stage's images, in job order), a folder of images (natural name order) or an image.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", type=Path)
    parser.add_argument("--out", "-o", required=True, type=Path, metavar="FILE")
    parser.add_argument("--fps", type=int, metavar="N", help="frames per second (24)")
    parser.add_argument(
        "--seconds-per-image", type=float, metavar="S", help="how long each image shows (1)"
    )
    parser.add_argument(
        "--crossfade", type=float, metavar="S", help="seconds of blend between images (0)"
    )
    parser.add_argument(
        "--format",
        choices=[video_format.value for video_format in VideoFormat],
        help="default: from the --out file's extension",
    )
    parser.add_argument("--size", metavar="WxH", help="default: the first image's size")
    parser.add_argument("--crf", type=int, metavar="N", help="quality, lower is better")
    parser.add_argument(
        "--ffmpeg", metavar="PATH", help="ffmpeg to use; default: PATH, then the bundled one"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    given = {
        "fps": args.fps,
        "seconds_per_image": args.seconds_per_image,
        "crossfade": args.crossfade,
        "format": _format_for(args.out, args.format),
        "size": _parse_size(args.size) if args.size else None,
        "crf": args.crf,
    }
    settings = validated_settings(
        **{key: value for key, value in given.items() if value is not None}
    )
    frames = collect_frames(args.inputs)
    progress = ProgressLine(sys.stderr)
    try:
        result = asyncio.run(
            encode_video(
                frames, args.out, settings, ffmpeg=args.ffmpeg, on_progress=progress.update
            )
        )
    finally:
        progress.close()
    print(describe(result))
    return 0


def describe(result: VideoResult) -> str:
    width, height = result.size
    return (
        f"wrote {result.path}: {len(result.images)} images, {result.duration:.2f} s, "
        f"{result.frames} frames at {result.fps} fps, {width}x{height}, "
        f"{result.format.value} ({result.codec}), {result.bytes / 1_000_000:.1f} MB "
        f"in {result.encode_seconds:.1f} s"
    )


class ProgressLine:
    """One line rewritten in place on a terminal; a plain line every few percent elsewhere."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._live = stream.isatty()
        self._drawn = False
        self._next_step = 0

    def update(self, progress: VideoProgress) -> None:
        percent = progress.fraction * 100
        speed = f", {progress.speed:.1f}x" if progress.speed else ""
        text = (
            f"encoding {percent:3.0f}% ({progress.out_time:.1f} of {progress.duration:.1f} s"
            f"{speed})"
        )
        if self._live:
            self._stream.write(f"\r{text}\x1b[K")
            self._drawn = True
        elif percent >= self._next_step:
            self._stream.write(text + "\n")
            self._next_step = (int(percent) // _PLAIN_LINE_STEP + 1) * _PLAIN_LINE_STEP
        self._stream.flush()

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()


def _format_for(out: Path, flag: str | None) -> VideoFormat:
    from_suffix = _FORMAT_BY_SUFFIX.get(out.suffix.lower())
    if flag is None:
        if from_suffix is None:
            raise InputError(
                f"cannot tell the format from {out.name!r}; end it in .mp4, .webm or .gif "
                "or pass --format"
            )
        return from_suffix
    if from_suffix is not None and from_suffix.value != flag:
        raise InputError(f"--format {flag} does not match the file name {out.name!r}")
    return VideoFormat(flag)


def _parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[x×]\s*(\d+)\s*", text)
    if match is None:
        raise InputError(f"--size must look like 1280x720, not {text!r}")
    return int(match.group(1)), int(match.group(2))
