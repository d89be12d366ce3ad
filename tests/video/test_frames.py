"""collect_frames: run folders (manifest or stage folders), plain folders, files, and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.video import collect_frames
from stablenew_tui.video.frames import natural_key
from tests.video.conftest import BLUE, GREEN, RED, MakeFrames


def _write_manifest(run: Path, entries: list[dict]) -> None:
    lines = [json.dumps(entry) for entry in entries]
    (run / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_plain_folder_is_taken_in_natural_name_order(make_frames: MakeFrames, tmp_path):
    names = ["img10.png", "img2.png", "img1.png", "IMG3.jpg"]
    make_frames([RED] * 4, names=names)
    (tmp_path / "frames" / "notes.txt").write_text("not an image")
    (tmp_path / "frames" / ".video.mp4.123.part").write_text("an encode in progress")
    found = [path.name for path in collect_frames(tmp_path / "frames")]
    assert found == ["img1.png", "img2.png", "IMG3.jpg", "img10.png"]


def test_natural_key_orders_numbers_by_value():
    assert sorted(["a-10-b", "a-9-b", "a-9-a", "b"], key=natural_key) == [
        "a-9-a",
        "a-9-b",
        "a-10-b",
        "b",
    ]


def test_files_and_folders_are_joined_in_the_order_given(make_frames: MakeFrames, tmp_path):
    first = make_frames([RED, GREEN], folder="a")
    second = make_frames([BLUE], folder="b")
    assert collect_frames([second[0], tmp_path / "a"]) == [second[0], *first]


def test_run_folder_with_manifest_takes_the_last_stage_in_job_order(
    make_frames: MakeFrames, tmp_path
):
    run = tmp_path / "run"
    make_frames([RED] * 3, folder="run/txt2img", names=["a.png", "b.png", "c.png"])
    make_frames([GREEN] * 3, folder="run/upscale", names=["a.png", "b.png", "c.png"])
    # Jobs finished out of order on two nodes; a video line from an earlier encode is ignored.
    _write_manifest(
        run,
        [
            {"stage": "txt2img", "path": "txt2img/b.png", "index": 1},
            {"stage": "txt2img", "path": "txt2img/a.png", "index": 0},
            {"stage": "upscale", "path": "upscale/b.png", "index": 1},
            {"stage": "txt2img", "path": "txt2img/c.png", "index": 2},
            {"stage": "upscale", "path": "upscale/c.png", "index": 2},
            {"stage": "upscale", "path": "upscale/a.png", "index": 0},
            {"stage": "video", "path": "video.mp4"},
        ],
    )
    found = [path.relative_to(run).as_posix() for path in collect_frames(run)]
    assert found == ["upscale/a.png", "upscale/b.png", "upscale/c.png"]


def test_manifest_without_job_index_keeps_line_order(make_frames: MakeFrames, tmp_path):
    run = tmp_path / "run"
    make_frames([RED] * 2, folder="run/img2img", names=["x10.png", "x2.png"])
    _write_manifest(
        run,
        [
            {"stage": "img2img", "path": "img2img/x10.png"},
            {"stage": "img2img", "path": "img2img/x2.png"},
        ],
    )
    assert [path.name for path in collect_frames(run)] == ["x10.png", "x2.png"]


def test_manifest_torn_last_line_is_ignored_but_a_bad_middle_line_is_not(
    make_frames: MakeFrames, tmp_path
):
    run = tmp_path / "run"
    make_frames([RED], folder="run/txt2img", names=["a.png"])
    good = json.dumps({"stage": "txt2img", "path": "txt2img/a.png", "index": 0})
    (run / "manifest.jsonl").write_text(f'{good}\n{{"stage": "txt2im')
    assert [path.name for path in collect_frames(run)] == ["a.png"]
    (run / "manifest.jsonl").write_text(f"{good}\nnot json\n{good}\n")
    with pytest.raises(InputError, match=r"manifest.jsonl:2: not a JSON line"):
        collect_frames(run)


def test_manifest_naming_a_missing_image_is_an_error(make_frames: MakeFrames, tmp_path):
    run = tmp_path / "run"
    make_frames([RED], folder="run/txt2img", names=["a.png"])
    _write_manifest(run, [{"stage": "txt2img", "path": "txt2img/gone.png", "index": 0}])
    with pytest.raises(InputError, match=r"manifest.jsonl:1: lists txt2img/gone.png"):
        collect_frames(run)


def test_run_folder_without_manifest_takes_its_last_stage_folder(make_frames: MakeFrames, tmp_path):
    run = tmp_path / "run"
    make_frames([RED] * 2, folder="run/txt2img")
    make_frames([GREEN] * 2, folder="run/img2img", names=["i10.png", "i9.png"])
    (run / "upscale").mkdir()  # the upscale stage made nothing (yet)
    found = [path.relative_to(run).as_posix() for path in collect_frames(run)]
    assert found == ["img2img/i9.png", "img2img/i10.png"]


def test_no_images_is_a_clear_input_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images to make a video from"):
        collect_frames(tmp_path / "empty")
    with pytest.raises(InputError, match="no such file or folder"):
        collect_frames(tmp_path / "missing")


def test_a_job_redone_after_a_crash_is_one_frame(make_frames: MakeFrames, tmp_path):
    run = tmp_path / "run"
    make_frames([RED] * 2, folder="run/txt2img", names=["a.png", "b.png"])
    _write_manifest(
        run,
        [
            {"job_id": "j0", "stage": "txt2img", "path": "txt2img/a.png", "node": "n1"},
            {"job_id": "j1", "stage": "txt2img", "path": "txt2img/b.png", "node": "n1"},
            # j0 again: its first line was written, then its process died before it was done
            {"job_id": "j0", "stage": "txt2img", "path": "txt2img/a.png", "node": "n2"},
        ],
    )
    assert [path.name for path in collect_frames(run)] == ["b.png", "a.png"]
