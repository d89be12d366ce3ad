"""Finding ffmpeg (configured path, PATH, the bundled binary), its progress and its failures."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.video import FfmpegError, VideoSettings, build_command, find_ffmpeg
from stablenew_tui.video.ffmpeg import parse_progress, run_ffmpeg
from tests.video.conftest import FFMPEG

pytestmark = pytest.mark.skipif(os.name != "posix", reason="fake ffmpeg scripts need sh")


def _script(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# Answers `-encoders` like an ffmpeg built without libx264; any other call fails loudly.
_NO_X264 = """if [ "$2" = "-encoders" ]; then
  printf 'Encoders:\\n V....D libvpx-vp9  libvpx VP9\\n V....D gif  GIF\\n'; exit 0
fi
i=1; while [ $i -le 20 ]; do echo "noise line $i" >&2; i=$((i+1)); done
echo "frames.ffconcat: Invalid data found when processing input" >&2
exit 1"""


async def test_the_bundled_ffmpeg_has_every_encoder_we_use():
    for encoder in ("libx264", "libvpx-vp9", "gif"):
        assert await find_ffmpeg(encoder, FFMPEG) == Path(FFMPEG)


async def test_without_ffmpeg_on_path_the_bundled_one_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert await find_ffmpeg("libx264") == Path(FFMPEG)


async def test_an_ffmpeg_on_path_lacking_the_encoder_is_passed_over(monkeypatch, tmp_path):
    fake = _script(tmp_path / "bin", "ffmpeg", _NO_X264)
    monkeypatch.setenv("PATH", str(fake.parent))
    assert await find_ffmpeg("libvpx-vp9") == fake
    assert await find_ffmpeg("libx264") == Path(FFMPEG)


async def test_a_configured_path_that_is_missing_or_unusable_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"nowhere/ffmpeg: ffmpeg not found: no such file"):
        await find_ffmpeg("libx264", tmp_path / "nowhere" / "ffmpeg")
    plain = tmp_path / "ffmpeg.txt"
    plain.write_text("not a program")
    with pytest.raises(InputError, match="is not executable"):
        await find_ffmpeg("libx264", plain)
    silent = _script(tmp_path / "bin", "true-ffmpeg", "exit 0")
    with pytest.raises(InputError, match="is not a working ffmpeg"):
        await find_ffmpeg("libx264", silent)
    without = _script(tmp_path / "bin", "old-ffmpeg", _NO_X264)
    with pytest.raises(InputError, match="has no libx264 encoder"):
        await find_ffmpeg("libx264", without)
    with pytest.raises(InputError, match="ffmpeg not found on PATH"):
        await find_ffmpeg("libx264", "no-such-ffmpeg-anywhere")


async def test_a_configured_relative_path_is_not_looked_up_on_path(monkeypatch, tmp_path):
    _script(tmp_path / "bin", "ffmpeg", _NO_X264)
    monkeypatch.chdir(tmp_path / "bin")
    found = await find_ffmpeg("gif", "./ffmpeg")
    assert found.is_absolute() and found.samefile(tmp_path / "bin" / "ffmpeg")
    with pytest.raises(InputError, match=r"bin/ffmpeg: has no libx264 encoder"):
        await find_ffmpeg("libx264", "./ffmpeg")


async def test_a_failing_ffmpeg_reports_its_last_stderr_lines(tmp_path):
    fake = _script(tmp_path / "bin", "ffmpeg", _NO_X264)
    with pytest.raises(FfmpegError) as caught:
        await run_ffmpeg([str(fake), "-i", "x"], duration=1.0)
    message = str(caught.value)
    assert message.startswith("ffmpeg failed with exit code 1:")
    assert "Invalid data found when processing input" in message
    assert "noise line 20" in message and "noise line 2\n" not in message


def test_progress_blocks_become_fractions_of_the_expected_duration():
    block = {"frame": "48", "out_time_us": "2000000", "speed": "3.5x"}
    report = parse_progress(block, duration=8.0, done=False)
    assert (report.fraction, report.out_time, report.frame, report.speed) == (0.25, 2.0, 48, 3.5)
    start = parse_progress({"out_time_us": "N/A", "speed": "N/A"}, duration=8.0, done=False)
    assert (start.fraction, start.speed) == (0.0, None)
    assert parse_progress(block, duration=8.0, done=True).fraction == 1.0


def test_command_is_an_argument_list_fed_by_a_concat_list(tmp_path):
    listing = tmp_path / "frames.ffconcat"
    settings = VideoSettings(fps=10, crossfade=0.5, seconds_per_image=2.0)
    command = build_command(Path("ffmpeg"), listing, settings, 4, tmp_path / "out.mp4")
    assert command[command.index("-f") + 1] == "concat"
    assert command[command.index("-i") + 1] == str(listing)
    assert "*" not in " ".join(command) and "%" not in " ".join(command)
    graph = command[command.index("-filter_complex") + 1]
    assert "tmix=frames=6" in graph  # five frames of fade, reaching the next image on the sixth
    assert command[command.index("-frames:v") + 1] == "65"  # (4 × 2 − 3 × 0.5) s at 10 fps
    assert command[command.index("-movflags") + 1] == "+faststart"
    assert command[command.index("-progress") + 1] == "pipe:1"
