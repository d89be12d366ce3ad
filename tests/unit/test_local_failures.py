"""A failed write is described by what it was: a full disk only when it says so, or when a
vague error meets a disk with no room left."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from stablenew_tui.pipeline.local_failures import local_write_error

NO_ROOM = Path("/proc")  # a folder whose file system shows no free space at all


def test_a_folder_that_cannot_be_made_is_not_called_a_full_disk():
    missing = OSError(errno.ENOENT, "No such file or directory", "/proc/nope/run")
    error = local_write_error(missing, run_folder=None, data_dir=Path("/tmp"))
    assert error.problem == "cannot write to /proc/nope: No such file or directory"


def test_a_vague_error_on_a_disk_without_room_is_a_full_disk():
    vague = sqlite3.OperationalError("disk I/O error")
    error = local_write_error(vague, run_folder=None, data_dir=NO_ROOM)
    assert error.problem == "no space left on the disk holding /proc"


def test_a_full_disk_said_so_is_one():
    full = OSError(errno.ENOSPC, "No space left on device", "/tmp/run/00001.png")
    error = local_write_error(full, run_folder=Path("/tmp/run"), data_dir=Path("/tmp"))
    assert error.problem == "no space left on the disk holding /tmp/run"
