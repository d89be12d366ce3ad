"""Frames drawn with Pillow, and a reader that reports what an encoded file really holds.

There is no ffprobe to rely on, so `probe` reads `ffmpeg -i FILE` (stream line, duration) and
decodes the whole stream once to count its frames.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

Color = tuple[int, int, int]
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


@dataclass
class Probe:
    codec: str
    pixel_format: str
    width: int
    height: int
    fps: float
    duration: float | None
    frames: int


def probe(path: Path) -> Probe:
    result = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(path), "-map", "0:v", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    log = result.stderr
    stream = re.search(
        r"Stream #0:0.*?: Video: (\w+).*?, (\w+)(?:\([^)]*\))?, (\d+)x(\d+).*?, ([\d.]+) fps", log
    )
    assert stream, log
    duration = re.search(r"Duration: (\d+):(\d+):([\d.]+)", log)
    frames = re.findall(r"frame=\s*(\d+)", log)
    return Probe(
        codec=stream.group(1),
        pixel_format=stream.group(2),
        width=int(stream.group(3)),
        height=int(stream.group(4)),
        fps=float(stream.group(5)),
        duration=(
            int(duration.group(1)) * 3600 + int(duration.group(2)) * 60 + float(duration.group(3))
            if duration
            else None
        ),
        frames=int(frames[-1]),
    )


def frame_pixels(path: Path, index: int) -> Image.Image:
    """Frame number `index` of a video, decoded to RGB."""
    found = probe(path)
    select = ["-vf", f"select=eq(n\\,{index})", "-frames:v", "1"]
    raw = subprocess.run(
        [
            FFMPEG,
            "-v",
            "error",
            "-i",
            str(path),
            *select,
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return Image.frombytes("RGB", (found.width, found.height), raw)


def close_to(actual: Sequence[int], expected: Sequence[int], tolerance: int = 24) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


MakeFrames = Callable[..., list[Path]]


@pytest.fixture
def make_frames(tmp_path: Path) -> MakeFrames:
    """`make_frames(colors, size=(64, 64), folder="frames", names=None, mode="RGB")`: one
    solid image per colour, each with a white mark so no two frames are alike."""

    def make(
        colors: Sequence[Color],
        size: tuple[int, int] = (64, 64),
        folder: str = "frames",
        names: Sequence[str] | None = None,
        mode: str = "RGB",
    ) -> list[Path]:
        target = tmp_path / folder
        target.mkdir(parents=True, exist_ok=True)
        paths = []
        for index, color in enumerate(colors):
            image = Image.new("RGB", size, color)
            image.putpixel((index % size[0], 0), WHITE)
            name = names[index] if names else f"frame-{index:03d}.png"
            path = target / name
            image.convert(mode).save(path)
            paths.append(path)
        return paths

    return make
