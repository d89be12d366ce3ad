"""Learning records: `records.jsonl`, one line per stage of every image.

Appended through `stablenew_tui.jsonl` (whole lines, fsynced, a torn tail repaired first), so
a finished image's record survives a crash. A job redone after a crash writes its records
again; readers keep the last record per job and stage. A line that is not a JSON object is
skipped and reported instead of failing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.jsonl import append_lines, job_stage_key, last_per_key, parse_line, read_jsonl

RECORDS_NAME = "records.jsonl"
RECORD_VERSION = 1


@dataclass
class RecordsRead:
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped_lines: list[int] = field(default_factory=list)

    def describe_problems(self, path: Path) -> str | None:
        if not self.skipped_lines:
            return None
        lines = ", ".join(str(number) for number in self.skipped_lines)
        return f"{path}: skipped unreadable record line(s) {lines}"


class RecordWriter:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, records: list[dict[str, Any]]) -> None:
        """Blocking (fsync): async callers run it in a thread."""
        versioned = [{"record_version": RECORD_VERSION, **record} for record in records]
        append_lines(self.path, versioned)


def read_records(path: Path) -> RecordsRead:
    read = read_jsonl(path)
    return RecordsRead(last_per_key(read.objects, job_stage_key), read.skipped_lines)


class RecordsFollower:
    """The records file kept in memory, reading only what was appended since the last look.

    The TUI asks for records after every rating; re-reading a long history each time would
    stall it. A line still being written (no newline yet) is left for the next look.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []  # the last record per job and stage
        self._by_key: dict[Any, dict[str, Any]] = {}
        self._offset = 0
        self._lines = 0
        self._lock = threading.Lock()  # the TUI refreshes from a thread and from its loop

    def refresh(self) -> list[dict[str, Any]]:
        with self._lock:
            return self._read_appended()

    def _read_appended(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return self.records
        complete = chunk[: chunk.rfind(b"\n") + 1]
        if not complete:
            return self.records
        self._offset += len(complete)
        for line in complete.decode("utf-8", errors="replace").splitlines():
            self._lines += 1
            record = parse_line(line)
            if record is None:
                continue  # read_records reports these
            key = job_stage_key(record) or ("line", self._lines)
            self._by_key.pop(key, None)
            self._by_key[key] = record
        self.records = list(self._by_key.values())
        return self.records
