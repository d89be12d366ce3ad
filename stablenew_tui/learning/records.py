"""Learning records: `records.jsonl`, one line per stage of every image.

Appended with flush + fsync so a finished image's record survives a crash. A crash in the
middle of an append can leave a torn last line: the reader skips it and reports it instead of
failing, and the next append starts on a fresh line.
"""

from __future__ import annotations

import json
import os
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

    def describe_problems(self, path: Path) -> str | None:
        if not self.skipped_lines:
            return None
        lines = ", ".join(str(number) for number in self.skipped_lines)
        return f"{path}: skipped unreadable record line(s) {lines}"


class RecordWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._checked_tail = False

    def append(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        if not self._checked_tail:
            self._heal_torn_tail()
            self._checked_tail = True
        lines = "\n".join(
            json.dumps({"record_version": RECORD_VERSION, **record}, ensure_ascii=False)
            for record in records
        )
        append_line_durable(self.path, lines)

    def _heal_torn_tail(self) -> None:
        # A torn line without its newline would glue itself to our first record.
        try:
            with self.path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                if handle.tell() == 0:
                    return
                handle.seek(-1, os.SEEK_END)
                last = handle.read(1)
        except FileNotFoundError:
            return
        if last != b"\n":
            append_line_durable(self.path, "")


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
