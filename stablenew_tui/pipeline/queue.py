"""The durable job queue: one SQLite file (WAL) that the TUI and headless runs share.

Every state change is one short transaction; claiming a job is a single UPDATE … RETURNING, so
two processes can never run the same job. A job stays `running` only while the process that
claimed it lives: on open, jobs of dead owners go back to `queued`.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from stablenew_tui.pipeline.jobs import Job, JobStatus, PromptSpec, Run
from stablenew_tui.pipeline.settings import PipelineSettings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created REAL NOT NULL,
    folder TEXT NOT NULL,
    settings TEXT NOT NULL,
    source TEXT NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    idx INTEGER NOT NULL,
    prompt_index INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    priority INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    node TEXT,
    owner TEXT,
    error TEXT,
    created REAL NOT NULL,
    started REAL,
    finished REAL
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs(status, run_id, priority, idx);
"""
_JOB_COLUMNS = (
    "id, run_id, idx, prompt_index, seed, spec, status, priority, attempts, node, error, "
    "created, started, finished"
)


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobQueue:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we open transactions ourselves (BEGIN IMMEDIATE where we write).
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)
        self.owner = this_process()
        self.recover_orphans()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- runs ----------------------------------------------------------------------------

    def add_run(self, run: Run, jobs: Iterable[Job]) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO runs (id, name, created, folder, settings, source, paused) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run.id, run.name, run.created, run.folder,
                    run.settings.model_dump_json(), json.dumps(run.source), int(run.paused),
                ),
            )  # fmt: skip
            db.executemany(
                f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES ({', '.join('?' * 14)})",
                [_job_row(job) for job in jobs],
            )

    def run(self, run_id: str) -> Run | None:
        row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run_from(row) if row else None

    def latest_unfinished_run(self) -> Run | None:
        row = self._db.execute(
            "SELECT runs.* FROM runs WHERE EXISTS (SELECT 1 FROM jobs WHERE jobs.run_id = runs.id "
            "AND jobs.status IN ('queued', 'running')) ORDER BY created DESC LIMIT 1"
        ).fetchone()
        return _run_from(row) if row else None

    def set_paused(self, run_id: str, paused: bool) -> None:
        with self._write() as db:
            db.execute("UPDATE runs SET paused = ? WHERE id = ?", (int(paused), run_id))

    # -- jobs ----------------------------------------------------------------------------

    def jobs(self, run_id: str, status: JobStatus | None = None) -> list[Job]:
        query = f"SELECT {_JOB_COLUMNS} FROM jobs WHERE run_id = ?"
        params: list[object] = [run_id]
        if status:
            query += " AND status = ?"
            params.append(status)
        rows = self._db.execute(query + " ORDER BY priority DESC, idx", params).fetchall()
        return [_job_from(row) for row in rows]

    def job(self, job_id: str) -> Job | None:
        row = self._db.execute(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        return _job_from(row) if row else None

    def counts(self, run_id: str) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT status, COUNT(*) FROM jobs WHERE run_id = ? GROUP BY status", (run_id,)
        ).fetchall()
        return {status: count for status, count in rows}

    def claim(self, run_id: str, node: str) -> Job | None:
        """Take the next queued job of an unpaused run for `node`, atomically."""
        with self._write() as db:
            row = db.execute(
                f"UPDATE jobs SET status = 'running', node = ?, owner = ?, started = ?, "
                f"attempts = attempts + 1, error = NULL "
                f"WHERE id = (SELECT jobs.id FROM jobs JOIN runs ON runs.id = jobs.run_id "
                f"WHERE jobs.status = 'queued' AND jobs.run_id = ? AND runs.paused = 0 "
                f"ORDER BY jobs.priority DESC, jobs.idx LIMIT 1) RETURNING {_JOB_COLUMNS}",
                (node, self.owner, time.time(), run_id),
            ).fetchone()
        return _job_from(row) if row else None

    def finish(self, job_id: str, status: JobStatus, error: str | None = None) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET status = ?, error = ?, finished = ?, owner = NULL WHERE id = ?",
                (status, error, time.time(), job_id),
            )

    def requeue(self, job_id: str, error: str | None = None) -> None:
        """Put a claimed job back, e.g. when interrupted or its node went away."""
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET status = 'queued', owner = NULL, node = NULL, error = ? "
                "WHERE id = ?",
                (error, job_id),
            )

    def requeue_failed(self, run_id: str) -> int:
        with self._write() as db:
            cursor = db.execute(
                "UPDATE jobs SET status = 'queued', error = NULL, finished = NULL "
                "WHERE run_id = ? AND status = 'failed'",
                (run_id,),
            )
        return cursor.rowcount

    def cancel(self, run_id: str, job_id: str | None = None) -> int:
        """Cancel queued jobs (one, or all of the run). A running job is the engine's to stop."""
        query = (
            "UPDATE jobs SET status = 'cancelled', finished = ? "
            "WHERE run_id = ? AND status = 'queued'"
        )
        params: list[object] = [time.time(), run_id]
        if job_id:
            query += " AND id = ?"
            params.append(job_id)
        with self._write() as db:
            return db.execute(query, params).rowcount

    def move_to_front(self, job_id: str) -> None:
        with self._write() as db:
            top = db.execute("SELECT COALESCE(MAX(priority), 0) FROM jobs").fetchone()[0]
            db.execute("UPDATE jobs SET priority = ? WHERE id = ?", (top + 1, job_id))

    def recover_orphans(self) -> int:
        """Jobs left `running` by a process that no longer exists go back to `queued`."""
        rows = self._db.execute(
            "SELECT DISTINCT owner FROM jobs WHERE status = 'running' AND owner IS NOT NULL"
        ).fetchall()
        dead = [owner for (owner,) in rows if not _owner_alive(owner)]
        if not dead:
            return 0
        with self._write() as db:
            return db.execute(
                f"UPDATE jobs SET status = 'queued', owner = NULL, node = NULL "
                f"WHERE status = 'running' AND owner IN ({', '.join('?' * len(dead))})",
                dead,
            ).rowcount


def _owner_alive(owner: str) -> bool:
    host, _, pid_text = owner.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine's process: not ours to judge
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _job_row(job: Job) -> tuple:
    return (
        job.id, job.run_id, job.index, job.prompt_index, job.seed, job.spec.model_dump_json(),
        job.status, job.priority, job.attempts, job.node, job.error, job.created, job.started,
        job.finished,
    )  # fmt: skip


def _job_from(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"], run_id=row["run_id"], index=row["idx"], prompt_index=row["prompt_index"],
        seed=row["seed"], spec=PromptSpec.model_validate_json(row["spec"]), status=row["status"],
        priority=row["priority"], attempts=row["attempts"], node=row["node"], error=row["error"],
        created=row["created"], started=row["started"], finished=row["finished"],
    )  # fmt: skip


def _run_from(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"], name=row["name"], created=row["created"], folder=row["folder"],
        settings=PipelineSettings.model_validate_json(row["settings"]),
        source=json.loads(row["source"]), paused=bool(row["paused"]),
    )  # fmt: skip
