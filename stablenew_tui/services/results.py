"""Finished images as rows to show and rate, read from the learning records.

Past images and the ones finishing now come from the same place (the engine writes a job's
records before it announces the job done), so a row looks the same live and after a restart,
and shows the model the server reported, not the one asked for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stablenew_tui.learning.ratings import RatingStore
from stablenew_tui.learning.records import RecordsFollower
from stablenew_tui.pipeline.summary import rate_image

RECENT_RESULTS = 500  # past images listed at start


@dataclass
class ResultRow:
    path: str
    time: float
    prompt: str
    negative: str
    model: str
    sampler: str
    seed: int | None
    rating: int | None = None
    job_id: str | None = None
    run_id: str | None = None
    stage: str | None = None


class ResultsFeed:
    """Rows for the images recorded since the last call: each job's final image still on
    disk, with its rating. Safe to call from a thread."""

    def __init__(self, records: RecordsFollower, ratings: RatingStore) -> None:
        self.records = records
        self.ratings = ratings
        self._seen = 0  # records already turned into rows
        self._lock = threading.Lock()

    def new_rows(self, limit: int | None = None) -> list[ResultRow]:
        """Rows for the records appended since the last call, at most the `limit` newest."""
        with self._lock:
            records = self.records.refresh()
            fresh, self._seen = records[self._seen :], len(records)
        final: dict[str, dict[str, Any]] = {}  # job id → its last stage that made images
        sampled: dict[str, dict[str, Any]] = {}  # job id → the inputs of its last sampled stage
        for record in fresh:
            job_id = record.get("job_id")
            if not job_id:
                continue
            inputs = record.get("inputs", {})
            if inputs.get("model") or inputs.get("sampler"):
                sampled[job_id] = inputs  # an upscale by extras reports neither
            if record.get("outputs", {}).get("paths"):
                final.pop(job_id, None)  # keep jobs in the order they finished
                final[job_id] = record
        chosen = list(final.values())
        if limit is not None:
            chosen = chosen[-limit:]
        rows = (self._row(record, sampled.get(record["job_id"], {})) for record in chosen)
        return [row for row in rows if Path(row.path).exists()]

    def _row(self, record: dict[str, Any], sampled: dict[str, Any]) -> ResultRow:
        inputs = {**record.get("inputs", {}), **sampled}
        path = record["outputs"]["paths"][-1]
        return ResultRow(
            path=path, time=record.get("time", 0.0),
            prompt=inputs.get("prompt", ""), negative=inputs.get("negative", ""),
            model=inputs.get("model") or "",
            sampler=inputs.get("sampler") or "", seed=inputs.get("seed"),
            rating=self.ratings.get(path), job_id=record.get("job_id"),
            run_id=record.get("run_id"), stage=record.get("stage"),
        )  # fmt: skip

    def rate(self, row: ResultRow, rating: int | None) -> str | None:
        """Rate the row's image 1–5, or clear its rating with None; a warning when its run's
        summary.csv could not be brought up to date (see `rate_image`)."""
        return rate_image(self.ratings, row.path, rating, job_id=row.job_id, run_id=row.run_id,
                          stage=row.stage)  # fmt: skip
