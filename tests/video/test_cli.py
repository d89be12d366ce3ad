"""`stablenew video`: exit codes, messages, progress lines, and Ctrl-C leaving nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from stablenew_tui.cli import main
from tests.conftest import REPO_ROOT
from tests.sim.test_sim_auth_and_server import STABLENEW_IN_A_TERMINAL
from tests.video.conftest import BLUE, GREEN, RED, MakeFrames, close_to, frame_pixels, probe


def test_encodes_and_says_what_it_wrote(make_frames: MakeFrames, tmp_path, capsys):
    make_frames([RED, GREEN, BLUE])
    out = tmp_path / "clip.webm"
    code = main(["video", str(tmp_path / "frames"), "--out", str(out), "--fps", "10"])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.startswith(f"wrote {out}: 3 images, 3.00 s, 30 frames at 10 fps, 64x64")
    # Not a terminal: whole lines, no carriage returns.
    assert "\r" not in captured.err and "encoding 100%" in captured.err
    assert probe(out).codec == "vp9"


def test_flags_reach_the_encoder(make_frames: MakeFrames, tmp_path, capsys):
    frames = make_frames([RED, GREEN])
    out = tmp_path / "clip.video"
    argv = ["video", *map(str, frames), "--out", str(out), "--format", "gif", "--fps", "8"]
    argv += ["--seconds-per-image", "1.5", "--crossfade", "0.5", "--size", "40x30"]
    assert main(argv) == 0
    found = probe(out)
    assert (found.codec, found.width, found.height, found.frames) == ("gif", 40, 30, 20)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "{tmp}/clip.mov"], "cannot tell the format from 'clip.mov'"),
        (["--out", "{tmp}/clip.gif", "--format", "mp4"], "--format mp4 does not match"),
        (["--out", "{tmp}/c.mp4", "--size", "big"], "--size must look like 1280x720"),
        (["--out", "{tmp}/c.mp4", "--crossfade", "2"], "must be shorter than seconds_per_image"),
        (["--out", "{tmp}/c.mp4", "--ffmpeg", "{tmp}/no/ffmpeg"], "ffmpeg not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(make_frames, tmp_path, capsys, extra, message):
    make_frames([RED])
    argv = ["video", str(tmp_path / "frames"), *(arg.format(tmp=tmp_path) for arg in extra)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("stablenew: ") and message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == [tmp_path / "frames"]


def test_missing_or_empty_input_is_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for target in ("empty", "missing"):
        assert main(["video", str(tmp_path / target), "--out", str(tmp_path / "v.mp4")]) == 2
    err = capsys.readouterr().err
    assert "no images to make a video from" in err and "no such file or folder" in err


def test_out_is_required(tmp_path):
    with pytest.raises(SystemExit) as exited:
        main(["video", str(tmp_path)])
    assert exited.value.code == 2


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_ctrl_c_cancels_with_130_and_leaves_nothing(make_frames: MakeFrames, tmp_path):
    make_frames([RED, GREEN, BLUE])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    command = [sys.executable, "-c", STABLENEW_IN_A_TERMINAL, "video", str(tmp_path / "frames")]
    command += ["--out", str(out_dir / "v.mp4"), "--fps", "120", "--seconds-per-image", "60"]
    work_root = tmp_path / "tmp"
    work_root.mkdir()
    environment = {**os.environ, "TMPDIR": str(work_root)}
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=environment, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while not any(out_dir.iterdir()):  # the partial file appears once ffmpeg runs
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert list(out_dir.iterdir()) == [] and list(work_root.iterdir()) == []
    assert "Traceback" not in err


def test_jpeg_and_webp_frames_as_a_webui_sends_them(make_frames: MakeFrames, tmp_path, capsys):
    make_frames([RED, GREEN, BLUE], names=["00001.jpg", "00002.webp", "00003.webp"])
    out = tmp_path / "clip.mp4"
    argv = ["video", str(tmp_path / "frames"), "--out", str(out), "--fps", "4"]
    assert main(argv) == 0, capsys.readouterr().err
    assert probe(out).frames == 12
    for frame, colour in ((1, RED), (5, GREEN), (9, BLUE)):
        assert close_to(frame_pixels(out, frame).getpixel((32, 32)), colour)
