"""JSON Lines files that neither a crash, a full disk nor a second writer can tear.

One way to append, used by the manifest, the learning records and the ratings:
- under an exclusive `flock`, so appenders in other processes (the TUI and a headless run
  share the records file) never interleave or see each other's half-written lines;
- a torn tail left by a crash is repaired first: cut back to the last whole line, or ended
  with a newline when the fragment is a whole JSON object that only lacks it;
- every byte is written (a short write is continued) and fsynced before returning; a write
  that fails part way (a full disk) is cut off again, so the file ends on a whole line;
- a blocking call: async code runs it in a thread.

Readers skip lines that are not JSON objects and say which; where a line can be written
again for the same thing (a job redone after a crash), the last line per key wins.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from stablenew_tui.atomic import fsync_directory

_TAIL_BLOCK = 64 * 1024
_Item = TypeVar("_Item")


@dataclass
class JsonlRead:
    numbered: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (line, object)
    skipped_lines: list[int] = field(default_factory=list)

    @property
    def objects(self) -> list[dict[str, Any]]:
        return [item for _, item in self.numbered]


def append_lines(path: Path, objects: Sequence[dict[str, Any]]) -> None:
    """Append one line per object, durably and whole, or raise OSError leaving the file as it
    was."""
    if not objects:
        return
    data = b"".join(
        json.dumps(item, ensure_ascii=False).encode("utf-8") + b"\n" for item in objects
    )
    try:
        _append(path, data)
    except OSError as error:
        if not error.filename:
            error.filename = str(path)  # a failed write() does not say which file
        raise


def _append(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        start = _repair_torn_tail(fd)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
                os.fsync(fd)
            raise
    finally:
        os.close(fd)  # releases the lock
    if created:
        fsync_directory(path.parent)


def read_jsonl(path: Path) -> JsonlRead:
    """Every JSON object line of the file (none when it does not exist)."""
    result = JsonlRead()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return result
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        item = parse_line(line)
        if item is None:
            result.skipped_lines.append(number)
        else:
            result.numbered.append((number, item))
    return result


def parse_line(line: str | bytes) -> dict[str, Any] | None:
    try:
        item = json.loads(line)
    except ValueError:
        return None
    return item if isinstance(item, dict) else None


def job_stage_key(item: dict[str, Any]) -> Hashable | None:
    """What a manifest line or a learning record is about: its job (or, for a run's video, its
    run) and stage. A later line with the same key supersedes an earlier one."""
    owner = item.get("job_id") or item.get("run_id")
    stage = item.get("stage")
    return (owner, stage) if owner and stage else None


def last_per_key(items: Iterable[_Item], key: Callable[[_Item], Hashable | None]) -> list[_Item]:
    """One item per key, the last one, in the order the survivors were written. Items without
    a key are all kept."""
    kept: dict[Hashable, _Item] = {}
    for number, item in enumerate(items):
        item_key = key(item)
        unique = ("line", number) if item_key is None else ("key", item_key)
        kept.pop(unique, None)
        kept[unique] = item
    return list(kept.values())


def _repair_torn_tail(fd: int) -> int:
    """Make the file end on a whole line; returns its size afterwards."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size  # the usual case: whole lines
    tail, position = b"", size
    while position > 0:
        start = max(0, position - _TAIL_BLOCK)
        block = os.pread(fd, position - start, start)
        newline = block.rfind(b"\n")
        if newline >= 0:
            tail = block[newline + 1 :] + tail
            position = start + newline + 1
            break
        tail = block + tail
        position = start
    if parse_line(tail) is not None:
        _write_all(fd, b"\n")  # a whole record that only lost its newline: keep it
        return size + 1
    os.ftruncate(fd, position)  # the fragment of a write that never finished
    return position


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]
