"""The manifest, the learning records and the ratings through their own writers and readers:
torn tails, short writes, a full disk (a real small tmpfs when we may mount one), redone jobs.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from stablenew_tui.jsonl import append_lines, read_jsonl
from stablenew_tui.learning.ratings import RatingStore
from stablenew_tui.learning.records import RecordsFollower, RecordWriter, read_records
from stablenew_tui.pipeline.outputs import MANIFEST_NAME, RunOutputs, read_manifest

BIG = "x" * 20_000  # more than a page: on a full disk the write is cut short part way


class Manifest:
    def __init__(self, folder: Path) -> None:
        self.path = folder / MANIFEST_NAME
        self.outputs = RunOutputs(folder)

    def add(self, key: str, value: str, stage: str = "txt2img") -> None:
        self.outputs.append_manifest([{"job_id": key, "stage": stage, "node": value}])

    def current(self) -> dict[str, str]:
        return {line["job_id"]: line["node"] for line in read_manifest(self.outputs.folder)}


class Records:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "records.jsonl"

    def add(self, key: str, value: str, stage: str = "txt2img") -> None:
        RecordWriter(self.path).append([{"job_id": key, "stage": stage, "node": value}])

    def current(self) -> dict[str, str]:
        read = read_records(self.path)
        assert read.skipped_lines == []
        return {record["job_id"]: record["node"] for record in read.records}


class Ratings:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "ratings.jsonl"

    def add(self, key: str, value: str, stage: str = "txt2img") -> None:
        RatingStore(self.path).rate(key, len(value) % 5 + 1, job_id=value, stage=stage)

    def current(self) -> dict[str, str]:
        store = RatingStore(self.path)
        assert store.skipped_lines == []
        return {rating.path: rating.job_id for rating in store.rated()}


FILES = [Manifest, Records, Ratings]


@pytest.fixture(params=FILES, ids=lambda kind: kind.__name__.lower())
def kind(request):
    return request.param


def test_a_torn_tail_is_cut_before_the_next_line(tmp_path, kind):
    jsonl = kind(tmp_path)
    jsonl.add("a", "one")
    with jsonl.path.open("ab") as handle:
        handle.write(b'{"job_id": "b", "stage": "txt2img", "no')  # a crash mid-append
    jsonl.add("c", "three")
    assert jsonl.current() == {"a": "one", "c": "three"}
    lines = jsonl.path.read_bytes().split(b"\n")
    assert len(lines) == 3 and lines[-1] == b"", "two whole lines, ending with a newline"


def test_a_whole_last_line_missing_only_its_newline_is_kept(tmp_path, kind):
    jsonl = kind(tmp_path)
    jsonl.add("a", "one")
    jsonl.path.write_bytes(jsonl.path.read_bytes().rstrip(b"\n"))
    jsonl.add("b", "two")
    assert jsonl.current() == {"a": "one", "b": "two"}


def test_a_job_redone_after_a_crash_supersedes_its_old_line(tmp_path, kind):
    jsonl = kind(tmp_path)
    jsonl.add("a", "first-node")
    jsonl.add("b", "other")
    jsonl.add("a", "second-node")  # the same job and stage, made again
    assert jsonl.current() == {"b": "other", "a": "second-node"}
    assert list(jsonl.current()) == ["b", "a"], "in the order the current lines were written"


def test_other_stages_of_a_job_are_not_superseded(tmp_path):
    manifest = Manifest(tmp_path)
    manifest.add("a", "n1", stage="txt2img")
    manifest.add("a", "n1", stage="upscale")
    assert [line["stage"] for line in read_manifest(tmp_path)] == ["txt2img", "upscale"]


@pytest.fixture
def short_writes(monkeypatch):
    """The kernel may write fewer bytes than asked; here it always does."""
    real_write = os.write

    def write_a_little(fd: int, data) -> int:
        return real_write(fd, bytes(data[:7]))

    monkeypatch.setattr(os, "write", write_a_little)


def test_short_writes_are_continued_to_the_end(tmp_path, kind, short_writes):
    jsonl = kind(tmp_path)
    jsonl.add("a", "one" + BIG[:100])
    jsonl.add("b", "two")
    assert jsonl.current() == {"a": "one" + BIG[:100], "b": "two"}


class SmallDisk:
    """A real 64 KiB tmpfs when this process may mount one, else a disk that fills up at the
    OS call: each write is cut short and the next one fails with ENOSPC."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.monkeypatch = monkeypatch
        folder.mkdir()
        self.mounted = os.geteuid() == 0 and _mount_tmpfs(folder)

    def fill(self) -> None:
        if self.mounted:
            with (self.folder / "filler").open("wb", buffering=0) as handle:
                try:
                    while True:
                        handle.write(b"\0" * 4096)
                except OSError as error:
                    assert error.errno == errno.ENOSPC
            return
        real_write, calls = os.write, []

        def filling_up(fd: int, data) -> int:
            calls.append(fd)
            if len(calls) % 2 == 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_write(fd, bytes(data[: max(1, len(data) // 2)]))

        self.monkeypatch.setattr(os, "write", filling_up)

    def free(self) -> None:
        if self.mounted:
            (self.folder / "filler").unlink()
        else:
            self.monkeypatch.undo()

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.folder)], check=False)


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    disk = SmallDisk(tmp_path / "small-disk", monkeypatch)
    yield disk
    disk.unmount()


def _mount_tmpfs(folder: Path) -> bool:
    command = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)]
    try:
        return subprocess.run(command, capture_output=True, check=False).returncode == 0
    except FileNotFoundError:
        return False


def test_a_full_disk_fails_the_append_and_leaves_the_file_whole(small_disk, kind):
    jsonl = kind(small_disk.folder)
    jsonl.add("a", "one")
    before = jsonl.path.read_bytes()
    small_disk.fill()
    with pytest.raises(OSError) as failure:
        jsonl.add("b", BIG)
    assert failure.value.errno == errno.ENOSPC
    small_disk.free()
    assert jsonl.path.read_bytes() == before, "the part that was written is cut off again"
    jsonl.add("c", "three")
    assert jsonl.current() == {"a": "one", "c": "three"}


def test_the_follower_keeps_the_last_record_per_job_and_stage(tmp_path):
    records = Records(tmp_path)
    follower = RecordsFollower(records.path)
    records.add("a", "first-node")
    assert [r["node"] for r in follower.refresh()] == ["first-node"]
    records.add("b", "other")
    records.add("a", "second-node")
    assert [(r["job_id"], r["node"]) for r in follower.refresh()] == [
        ("b", "other"),
        ("a", "second-node"),
    ]


def test_lines_without_a_key_are_all_kept(tmp_path):
    path = tmp_path / "free.jsonl"
    append_lines(path, [{"note": 1}, {"note": 1}])
    assert read_jsonl(path).objects == [{"note": 1}, {"note": 1}]
