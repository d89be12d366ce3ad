"""Every request the simulated WebUI received, in arrival order, so tests can assert payloads.

The log is bounded (by count and by total body size) because a long demo session or a benchmark
can send thousands of base64 images; the oldest records go first and `seq` keeps counting, so a
reader can tell that something was dropped.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload


@dataclass
class RecordedRequest:
    seq: int  # 1 for the first request the server received, never reused
    method: str
    path: str
    query: dict[str, str]
    body: Any  # parsed JSON; the raw text if it was not JSON; None if there was no body
    received_at: float  # time.time()
    body_size: int  # bytes on the wire
    # Top-level body keys the endpoint does not know: the server ignored them silently.
    ignored_fields: list[str] = field(default_factory=list)
    fault: str | None = None  # the injected fault that answered this request, if any

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body,
            "received_at": self.received_at,
            "ignored_fields": self.ignored_fields,
            "fault": self.fault,
        }


def parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


class RequestLog(Sequence[RecordedRequest]):
    """A read-mostly sequence; appends come from the server loop, reads from anywhere."""

    def __init__(self, max_records: int = 10_000, max_body_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_records = max_records
        self.max_body_bytes = max_body_bytes
        self._records: deque[RecordedRequest] = deque()
        self._body_bytes = 0
        self._seq = 0
        self._lock = threading.Lock()

    def record(self, method: str, path: str, query: dict[str, str], raw: bytes) -> RecordedRequest:
        with self._lock:
            self._seq += 1
            entry = RecordedRequest(
                seq=self._seq,
                method=method,
                path=path,
                query=query,
                body=parse_body(raw),
                received_at=time.time(),
                body_size=len(raw),
            )
            self._records.append(entry)
            self._body_bytes += entry.body_size
            while len(self._records) > 1 and (
                len(self._records) > self.max_records or self._body_bytes > self.max_body_bytes
            ):
                self._body_bytes -= self._records.popleft().body_size
            return entry

    @property
    def total(self) -> int:
        """Requests received since start, including any the bounds have dropped."""
        return self._seq

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._body_bytes = 0

    def for_path(self, path: str) -> list[RecordedRequest]:
        """Records for one endpoint; "txt2img" is short for "/sdapi/v1/txt2img"."""
        full = path if path.startswith("/") else f"/sdapi/v1/{path}"
        return [entry for entry in self._snapshot() if entry.path == full]

    def _snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._records)

    @overload
    def __getitem__(self, index: int) -> RecordedRequest: ...
    @overload
    def __getitem__(self, index: slice) -> list[RecordedRequest]: ...
    def __getitem__(self, index: int | slice) -> RecordedRequest | list[RecordedRequest]:
        return self._snapshot()[index]

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self._snapshot())
