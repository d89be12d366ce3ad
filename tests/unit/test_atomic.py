"""Writes a crash cannot tear."""

from __future__ import annotations

import os

import pytest

from stablenew_tui.atomic import write_text_atomic


def test_a_write_cut_short_leaves_the_old_file_whole_and_no_temp_behind(tmp_path, monkeypatch):
    """The data is written, then the disk fails before it is durable (as a crash or a full
    disk would): the file still holds its old text, never a mix, and nothing is left over."""
    path = tmp_path / "last_run.toml"
    write_text_atomic(path, "old = 1\n")

    def disk_fails(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_fails)
    with pytest.raises(OSError, match="No space"):
        write_text_atomic(path, "new = 2\n" * 1000)
    assert path.read_text() == "old = 1\n"
    assert [entry.name for entry in tmp_path.iterdir()] == ["last_run.toml"]


def test_a_write_replaces_the_file_whole(tmp_path):
    path = tmp_path / "sub" / "state.toml"
    write_text_atomic(path, "first\n")
    write_text_atomic(path, "second\n")
    assert path.read_text() == "second\n"
