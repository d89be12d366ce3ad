"""Failures of this machine's own storage: a full disk, a read-only or vanished folder.

Every write a run makes (images, the manifest, learning records, the queue) can fail with an
OSError or, for the queue, an sqlite3 error ("database or disk is full"). None of them is the
job's fault and no other node can help, so the run stops (in the TUI: pauses) with the job in
hand back in the queue, and says which disk and what to do, in one line.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stablenew_tui.errors import StableNewError

LOCAL_FAILURES = (OSError, sqlite3.Error)
# Less free space than this and a failed write is put down to a full disk.
NEARLY_FULL_BYTES = 1 << 20
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


RESUME = "run `stablenew run --resume`"


class LocalWriteError(StableNewError):
    """A write to this machine's storage failed; `problem` says what, `fix` what to do,
    `then` how to go on."""

    def __init__(self, problem: str, fix: str, then: str = RESUME) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}; {fix} and {then}")


def local_write_error(
    error: OSError | sqlite3.Error, *, run_folder: Path | None, data_dir: Path,
    then: str = RESUME,
) -> LocalWriteError:  # fmt: skip
    """`error` in words that name the folder it happened in: the run's folder for its images
    and manifest, else the folder of the file (the data folder for records and the queue)."""
    folder = _folder_of(error, run_folder, data_dir)
    if _no_space(error) or (_vague(error) and _nearly_full(folder)):
        return LocalWriteError(f"no space left on the disk holding {folder}", "free space", then)
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return LocalWriteError(f"cannot write to {folder}: {reason}", "fix it", then)


@contextmanager
def local_writes_described(data_dir: Path, then: str) -> Iterator[None]:
    """A write in the block (the queue, a new run's folder) that fails as one LocalWriteError
    ending with `then`. A closed pipe is the reader's doing, not the disk's: it passes
    through."""
    try:
        yield
    except BrokenPipeError:
        raise
    except LOCAL_FAILURES as error:
        raise local_write_error(error, run_folder=None, data_dir=data_dir, then=then) from None


def _no_space(error: OSError | sqlite3.Error) -> bool:
    if isinstance(error, OSError):
        return error.errno in _NO_SPACE
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def _vague(error: OSError | sqlite3.Error) -> bool:
    """An error that may hide a full disk: SQLite's own, or an I/O error. One that says what
    it is (no such folder, no permission, a read-only disk) is taken at its word: a folder
    like /proc shows no free space at all."""
    return not isinstance(error, OSError) or error.errno in (None, errno.EIO)


def _nearly_full(folder: Path) -> bool:
    """Whether the disk holding `folder` is out of room, whatever the error said: SQLite
    reports a full disk met while growing its shared-memory file as a plain "disk I/O error"
    (SQLITE_IOERR_SHMSIZE)."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < NEARLY_FULL_BYTES


def _folder_of(error: OSError | sqlite3.Error, run_folder: Path | None, data_dir: Path) -> Path:
    if isinstance(error, sqlite3.Error):
        return data_dir  # the queue
    if not error.filename:
        return run_folder or data_dir
    path = Path(error.filename)
    if run_folder is not None and path.is_relative_to(run_folder):
        return run_folder
    return path.parent
