"""Cancelling an encode stops ffmpeg and leaves no file behind: no partial, no work folder."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from stablenew_tui.video import VideoProgress, VideoSettings, encode_video
from tests.video.conftest import BLUE, GREEN, RED, MakeFrames

# 3 images × 60 s at 120 fps: minutes of encoding, so it is surely cancelled mid-way.
LONG = VideoSettings(fps=120, seconds_per_image=60.0)


@pytest.fixture
def work_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the encoder's temporary work folder goes, so the test can see it is removed."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
        except OSError:
            continue
    return found


async def test_cancel_mid_encode_kills_ffmpeg_and_removes_the_partial(
    make_frames: MakeFrames, tmp_path, work_root
):
    out_dir = tmp_path / "out"
    encoding = asyncio.Event()
    reports: list[VideoProgress] = []

    def on_progress(report: VideoProgress) -> None:
        reports.append(report)
        encoding.set()

    task = asyncio.create_task(
        encode_video(
            make_frames([RED, GREEN, BLUE]), out_dir / "long.mp4", LONG, on_progress=on_progress
        )
    )
    await asyncio.wait_for(encoding.wait(), timeout=30)
    (partial,) = out_dir.iterdir()
    assert partial.name.startswith(".long.mp4.") and partial.name.endswith(".part")

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not reports[-1].done
    assert list(out_dir.iterdir()) == []
    assert list(work_root.iterdir()) == []
    if Path("/proc/self/cmdline").exists():
        assert _processes_mentioning(partial.name) == []


@pytest.mark.parametrize("delay", [0.0, 0.03, 0.1])
async def test_cancel_at_any_moment_leaves_nothing(tmp_path, work_root, delay):
    # JPEGs must be converted first, so an early cancel lands while frames are being written.
    folder = tmp_path / "jpegs"
    folder.mkdir()
    frames = []
    for index in range(16):
        path = folder / f"{index:02d}.jpg"
        Image.new("RGB", (320, 200), (index * 15, 80, 160)).save(path)
        frames.append(path)
    out_dir = tmp_path / "out"
    task = asyncio.create_task(encode_video(frames, out_dir / "v.mp4", LONG))
    await asyncio.sleep(delay)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not out_dir.exists() or list(out_dir.iterdir()) == []
    assert list(work_root.iterdir()) == []
