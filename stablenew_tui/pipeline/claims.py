"""Claiming a job: which queued job a node takes, in one transaction of the queue.

A claim takes the first queued job of the run in its order (priority, then position), or,
when the node's scheduler asks for one checkpoint, the first queued job of that checkpoint.
Both are one read of an index entry (`jobs_claim_order`, `jobs_claim_by_model`), never a sort
of the queue. Before choosing, the scheduler may glance at the queue (`QueueGlance`): the
run's first job and how many jobs wait per checkpoint. Jobs whose holder's lease lapsed (or
whose holder is gone) are put back first, so they are claimed like any other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from dataclasses import dataclass

from stablenew_tui.pipeline.holders import Holder, this_process
from stablenew_tui.pipeline.jobs import Job, PromptSpec
from stablenew_tui.pipeline.queue_schema import JOB_COLUMNS, job_from


@dataclass(frozen=True)
class Choice:
    """What a node claims: job `job_id` (None: the run's first job), or nothing for now
    (`wait`: the queue's jobs are better left to other nodes)."""

    job_id: str | None = None
    wait: bool = False


FIRST = Choice()


@dataclass(frozen=True)
class QueuedJob:
    id: str
    index: int
    model: str | None
    priority: int
    spec: PromptSpec


def next_queued(passed_over: int = 0, *, of_model: bool = False) -> str:
    """The query for the next job to claim (`of_model`: of one checkpoint, given after the
    run), stepping over `passed_over` job ids (jobs a node could not make)."""
    skip = f" AND id NOT IN ({', '.join('?' * passed_over)})" if passed_over else ""
    model = " AND model = ?" if of_model else ""
    return (
        f"SELECT id FROM jobs WHERE run_id = ? AND status = 'queued'{model}{skip} "
        "ORDER BY priority DESC, idx LIMIT 1"
    )


class QueueGlance:
    """What the queue holds right now, read inside the claim's transaction."""

    def __init__(self, db: sqlite3.Connection, run_id: str, skip: Collection[str]) -> None:
        self._db, self._run_id, self._skip = db, run_id, tuple(skip)

    def first(self, model: str | None = None) -> QueuedJob | None:
        """The run's next job in order (`model`: of that checkpoint), passing over the skipped
        ones."""
        query = next_queued(len(self._skip), of_model=model is not None)
        params = (self._run_id, *([model] if model is not None else []), *self._skip)
        row = self._db.execute(
            f"SELECT id, idx, model, priority, spec FROM jobs WHERE id = ({query})", params
        ).fetchone()
        if row is None:
            return None
        spec = PromptSpec.model_validate_json(row["spec"])
        return QueuedJob(row["id"], row["idx"], row["model"], row["priority"], spec)

    def waiting(self) -> dict[str | None, int]:
        """Queued jobs per checkpoint (skipped ones included)."""
        rows = self._db.execute(
            "SELECT model, COUNT(*) FROM jobs WHERE run_id = ? AND status = 'queued' "
            "GROUP BY model",
            (self._run_id,),
        ).fetchall()
        return {model: count for model, count in rows}


Chooser = Callable[[QueueGlance], Choice]


def claim_next(
    db: sqlite3.Connection, run_id: str, node: str, lease_until: float, now: float,
    skip: Collection[str], choose: Chooser | None,
) -> Job | None:  # fmt: skip
    """Inside a write transaction: claim for `node` what `choose` picks."""
    paused = db.execute("SELECT paused FROM runs WHERE id = ?", (run_id,)).fetchone()
    if paused is None or paused[0]:
        return None
    free_lapsed(db, run_id, now)
    choice = choose(QueueGlance(db, run_id, skip)) if choose else FIRST
    if choice.wait:
        return None
    target = "?" if choice.job_id else next_queued(len(skip))
    row = db.execute(
        "UPDATE jobs SET status = 'running', node = ?, owner = ?, started = ?, "
        "lease_until = ?, generation = generation + 1, attempts = attempts + 1, error = NULL "
        f"WHERE id = ({target}) AND status = 'queued' RETURNING {JOB_COLUMNS}",
        (node, this_process().to_json(), now, lease_until,
         *((choice.job_id,) if choice.job_id else (run_id, *skip))),
    ).fetchone()  # fmt: skip
    return job_from(row) if row else None


def free_lapsed(db: sqlite3.Connection, run_id: str, now: float) -> None:
    rows = db.execute(
        "SELECT id, owner, lease_until FROM jobs WHERE run_id = ? AND status = 'running'",
        (run_id,),
    ).fetchall()
    freed = [
        (row["id"],)
        for row in rows
        if lease_free(Holder.from_json(row["owner"]), row["lease_until"], now)
    ]
    db.executemany(
        "UPDATE jobs SET status = 'queued', owner = NULL, node = NULL, lease_until = NULL "
        "WHERE id = ?",
        freed,
    )


def lease_free(holder: Holder | None, lease_until: float | None, now: float) -> bool:
    """Whether work held like this may be taken: its lease lapsed (none counts as lapsed), or
    its holder is provably gone."""
    if lease_until is None or lease_until <= now:
        return True
    return holder is not None and holder.certainly_gone()
