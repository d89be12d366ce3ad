"""Learning records: `records.jsonl`, one line per stage of every image.

Appended with flush + fsync so a finished image's record survives a crash. A crash in the
middle of an append can leave a torn last line: the reader skips it and reports it instead of
failing, and the next append starts on a fresh line (see `append_line_durable`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.atomic import append_line_durable

RECORDS_NAME = "records.jsonl"
RECORD_VERSION = 1


@dataclass
class RecordsRead:
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped_lines: list[int] = field(default_factory=list)


class RecordWriter:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        lines = "\n".join(
            json.dumps({"record_version": RECORD_VERSION, **record}, ensure_ascii=False)
            for record in records
        )
        append_line_durable(self.path, lines)


def read_records(path: Path) -> RecordsRead:
    result = RecordsRead()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return result
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            result.skipped_lines.append(number)
            continue
        if isinstance(record, dict):
            result.records.append(record)
        else:
            result.skipped_lines.append(number)
    return result


class RecordsFollower:
    """The records file kept in memory, reading only what was appended since the last look.

    The TUI asks for records after every rating; re-reading a long history each time would
    stall it. A line still being written (no newline yet) is left for the next look.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []
        self._offset = 0
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
        self._offset += len(complete)
        for line in complete.decode("utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # torn by a crash; read_records reports these
            if isinstance(record, dict):
                self.records.append(record)
        return self.records
