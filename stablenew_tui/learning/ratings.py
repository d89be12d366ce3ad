"""Ratings 1–5 of finished images: `ratings.jsonl` in the data folder.

Append-only through `stablenew_tui.jsonl` (whole lines, fsynced), one line per rating action;
the latest line for an image wins, and a rating of null clears it. Each line links the image
path to its job and learning record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from stablenew_tui.jsonl import append_lines, read_jsonl

RATINGS_NAME = "ratings.jsonl"


@dataclass(frozen=True)
class Rating:
    path: str
    rating: int | None
    job_id: str | None = None
    run_id: str | None = None
    stage: str | None = None
    time: float = 0.0


class RatingStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._latest: dict[str, Rating] = {}
        self.skipped_lines: list[int] = []
        self._load()

    def _load(self) -> None:
        read = read_jsonl(self.path)
        self.skipped_lines = list(read.skipped_lines)
        for number, data in read.numbered:
            try:
                rating = Rating(
                    path=str(data["path"]),
                    rating=_valid(data.get("rating")),
                    job_id=data.get("job_id"),
                    run_id=data.get("run_id"),
                    stage=data.get("stage"),
                    time=float(data.get("time", 0.0)),
                )
            except (ValueError, KeyError, TypeError):
                self.skipped_lines.append(number)
                continue
            self._remember(rating)
        self.skipped_lines.sort()

    def rate(
        self,
        path: str,
        rating: int | None,
        *,
        job_id: str | None = None,
        run_id: str | None = None,
        stage: str | None = None,
    ) -> Rating:
        """Rate an image 1–5, or clear its rating with None. Blocking (fsync): async callers
        run it in a thread."""
        entry = Rating(path, _valid(rating), job_id, run_id, stage, time.time())
        line = {
            "time": entry.time, "path": path, "rating": entry.rating,
            "job_id": job_id, "run_id": run_id, "stage": stage,
        }  # fmt: skip
        append_lines(self.path, [line])
        self._remember(entry)
        return entry

    def _remember(self, rating: Rating) -> None:
        self._latest.pop(rating.path, None)  # the latest rating goes last, as in the file
        self._latest[rating.path] = rating

    def get(self, path: str) -> int | None:
        entry = self._latest.get(path)
        return entry.rating if entry else None

    def rated(self) -> list[Rating]:
        """Images that currently have a rating."""
        return [entry for entry in self._latest.values() if entry.rating is not None]


def _valid(rating: object) -> int | None:
    if rating is None:
        return None
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValueError(f"a rating is 1 to 5, not {rating!r}")
    return rating
