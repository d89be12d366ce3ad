"""The queue file's connections, and when a lease recorded in it no longer holds."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stablenew_tui.pipeline.holders import Holder


class Connection:
    """One SQLite connection that any thread may use, one transaction at a time."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.RLock()
        # isolation_level=None: we open transactions ourselves (BEGIN IMMEDIATE to write).
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")


def lease_free(holder: Holder | None, lease_until: float | None, now: float) -> bool:
    """Whether work held like this may be taken: its lease lapsed (none counts as lapsed), or
    its holder is provably gone."""
    if lease_until is None or lease_until <= now:
        return True
    return holder is not None and holder.certainly_gone()
