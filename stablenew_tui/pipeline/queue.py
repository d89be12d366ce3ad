"""The durable job queue: one SQLite file (WAL) that the TUI and headless runs share.

Every state change is one short transaction. Work is held under leases:
- a process running a run holds the run's lease, so a second process cannot run it too;
- claiming a job gives it a lease (until `lease_seconds` from now) and the next generation
  number; the holder renews both while it works (see `leases.LeaseKeeper`);
- a lease that lapses (the holder crashed, froze, lost the disk) frees the work for any
  process on any host. So does a holder this machine can prove has exited (`Holder`);
- finishing, requeueing or writing a job's outputs happens only inside a transaction that
  checks the generation is still the holder's: a process whose lease was taken over can
  neither complete the job nor put its files in place.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from stablenew_tui.errors import StableNewError
from stablenew_tui.pipeline.claims import Chooser, QueueGlance, claim_next
from stablenew_tui.pipeline.holders import Holder, RunBusy, this_process
from stablenew_tui.pipeline.jobs import Job, JobStatus, Run
from stablenew_tui.pipeline.node_leases import NodeLeases
from stablenew_tui.pipeline.queue_db import Connection, lease_free
from stablenew_tui.pipeline.queue_schema import (
    JOB_COLUMNS,
    JOB_PLACEHOLDERS,
    job_from,
    job_row,
    prepare_schema,
    run_from,
)

DEFAULT_LEASE_SECONDS = 60.0
STOPPED_WHILE_RUNNING = "the app stopped while this job ran"  # why a job went back


_Result = TypeVar("_Result")


class LeaseLost(StableNewError):
    """The job's lease lapsed and another claim took it: this holder may not touch it."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} was taken over by another process after its lease lapsed")


@dataclass(frozen=True)
class RunLease:
    run_id: str
    generation: int


@dataclass(frozen=True)
class Renewal:
    run_kept: bool
    lost_jobs: list[Job]  # the claims given that the queue no longer honours


class JobQueue:
    def __init__(self, path: Path, *, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        self.path = path
        self.lease_seconds = lease_seconds
        path.parent.mkdir(parents=True, exist_ok=True)
        # Writes can wait on the disk (a job's files are written inside the transaction that
        # checks its lease) and the engine makes them from threads; reads, made on the event
        # loop (the TUI's queue view), have a connection of their own and never wait for them.
        self._writes = Connection(path)
        self._reads = Connection(path)
        with self._writes.read() as db:
            prepare_schema(db, path)
        self.nodes = NodeLeases(self._writes, lease_seconds, self._reads)

    def close(self) -> None:
        self._writes.close()
        self._reads.close()

    # -- runs ----------------------------------------------------------------------------

    def add_run(self, run: Run, jobs: Iterable[Job]) -> None:
        with self._writes.write() as db:
            db.execute(
                "INSERT INTO runs (id, name, created, folder, settings, source, paused) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run.id, run.name, run.created, run.folder,
                    run.settings.model_dump_json(), json.dumps(run.source), int(run.paused),
                ),
            )  # fmt: skip
            db.executemany(
                f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES ({JOB_PLACEHOLDERS})",
                [job_row(job) for job in jobs],
            )

    def run(self, run_id: str) -> Run | None:
        with self._reads.read() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return run_from(row) if row else None

    def latest_unfinished_run(self, *, or_failed: bool = False) -> Run | None:
        """The last run with images left to make (`or_failed`: or failed)."""
        statuses = "'queued', 'running'" + (", 'failed'" if or_failed else "")
        with self._reads.read() as db:
            row = db.execute(
                "SELECT runs.* FROM runs WHERE EXISTS (SELECT 1 FROM jobs WHERE "
                f"jobs.run_id = runs.id AND jobs.status IN ({statuses})) "
                "ORDER BY created DESC LIMIT 1"
            ).fetchone()
        return run_from(row) if row else None

    def find_run(self, ref: str) -> Run | None:
        """The run `ref` names: its id, or its folder (any path to it)."""
        wanted = Path(ref).expanduser().resolve()
        return self.run(ref) or next(
            (run for run in self.runs() if Path(run.folder).resolve() == wanted), None
        )

    def runs(self) -> list[Run]:
        """Every run, oldest first."""
        with self._reads.read() as db:
            rows = db.execute("SELECT * FROM runs ORDER BY created, id").fetchall()
        return [run_from(row) for row in rows]

    def unfinished_runs(self) -> list[tuple[Run, dict[str, int], Holder | None]]:
        """Every run with images still to make, newest first, with its jobs counted by status
        and the process holding it while its lease stands."""
        now = time.time()
        with self._reads.read() as db:
            counted = db.execute(
                "SELECT run_id, status, COUNT(*) FROM jobs WHERE run_id IN (SELECT run_id FROM "
                "jobs WHERE status IN ('queued', 'running')) GROUP BY run_id, status"
            ).fetchall()
            counts: dict[str, dict[str, int]] = {}
            for run_id, status, count in counted:
                counts.setdefault(run_id, {})[status] = count
            rows = db.execute(
                f"SELECT * FROM runs WHERE id IN ({', '.join('?' * len(counts))}) "
                "ORDER BY created DESC",
                list(counts),
            ).fetchall()
        return [
            (run_from(row), counts[row["id"]], _live_holder(row["owner"], row["lease_until"], now))
            for row in rows
        ]

    def set_paused(self, run_id: str, paused: bool) -> None:
        with self._writes.write() as db:
            db.execute("UPDATE runs SET paused = ? WHERE id = ?", (int(paused), run_id))

    def take_run(self, run_id: str) -> RunLease:
        """Become the process running this run; raises RunBusy naming the live process that
        already is."""
        now = time.time()
        with self._writes.write() as db:
            row = db.execute(
                "SELECT owner, lease_until, generation FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            if row is None:
                raise StableNewError(f"no run {run_id} in {self.path}")
            holder = Holder.from_json(row["owner"])
            if holder and not lease_free(holder, row["lease_until"], now):
                raise RunBusy(run_id, holder)
            generation = row["generation"] + 1
            db.execute(
                "UPDATE runs SET owner = ?, lease_until = ?, generation = ? WHERE id = ?",
                (this_process().to_json(), now + self.lease_seconds, generation, run_id),
            )
        return RunLease(run_id, generation)

    def run_owner(self, run_id: str) -> Holder | None:
        with self._reads.read() as db:
            row = db.execute("SELECT owner FROM runs WHERE id = ?", (run_id,)).fetchone()
        return Holder.from_json(row["owner"]) if row else None

    def release_run(self, lease: RunLease) -> None:
        with self._writes.write() as db:
            db.execute(
                "UPDATE runs SET owner = NULL, lease_until = NULL WHERE id = ? AND generation = ?",
                (lease.run_id, lease.generation),
            )

    def renew(self, run: RunLease, jobs: Iterable[Job]) -> Renewal:
        """Extend the run's lease and those of the jobs held, in one transaction."""
        until = time.time() + self.lease_seconds
        with self._writes.write() as db:
            run_kept = (
                db.execute(
                    "UPDATE runs SET lease_until = ? WHERE id = ? AND generation = ?",
                    (until, run.run_id, run.generation),
                ).rowcount
                == 1
            )
            lost = [
                job
                for job in jobs
                if db.execute(
                    "UPDATE jobs SET lease_until = ? "
                    "WHERE id = ? AND generation = ? AND status = 'running'",
                    (until, job.id, job.generation),
                ).rowcount
                == 0
            ]
        return Renewal(run_kept, lost)

    # -- jobs ----------------------------------------------------------------------------

    def jobs(self, run_id: str, status: JobStatus | None = None) -> list[Job]:
        query = f"SELECT {JOB_COLUMNS} FROM jobs WHERE run_id = ?"
        params: list[object] = [run_id]
        if status:
            query += " AND status = ?"
            params.append(status)
        with self._reads.read() as db:
            rows = db.execute(query + " ORDER BY priority DESC, idx", params).fetchall()
        return [job_from(row) for row in rows]

    def job(self, job_id: str) -> Job | None:
        with self._reads.read() as db:
            row = db.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return job_from(row) if row else None

    def models(self, run_id: str) -> set[str | None]:
        """The checkpoints the run's jobs name."""
        with self._reads.read() as db:
            rows = db.execute("SELECT DISTINCT model FROM jobs WHERE run_id = ?", (run_id,))
            return {row[0] for row in rows}

    def waiting(self, run_id: str) -> dict[str | None, int]:
        """Queued jobs per checkpoint."""
        with self._reads.read() as db:
            return QueueGlance(db, run_id, ()).waiting()

    def counts(self, run_id: str) -> dict[str, int]:
        with self._reads.read() as db:
            rows = db.execute(
                "SELECT status, COUNT(*) FROM jobs WHERE run_id = ? GROUP BY status", (run_id,)
            ).fetchall()
        return {status: count for status, count in rows}

    def claim(
        self, run_id: str, node: str, skip: Collection[str] = (), choose: Chooser | None = None
    ) -> Job | None:
        """Take the next job of an unpaused run for `node`, atomically, under a new lease,
        passing over the jobs in `skip` (those the node could not make): the run's first, or
        what `choose` picks after a glance at the queue (see `claims`). Jobs whose holder's
        lease lapsed (or whose holder is gone) are taken back first."""
        now = time.time()
        with self._writes.write() as db:
            return claim_next(db, run_id, node, now + self.lease_seconds, now, skip, choose)

    def next_lapse(self, run_id: str, held: Collection[str]) -> float | None:
        """When the first lease lapses among the run's running jobs that `held` does not
        name (None: there are none), so a worker with nothing to claim knows how long to
        wait for a job stuck with a vanished holder."""
        with self._reads.read() as db:
            rows = db.execute(
                "SELECT id, lease_until FROM jobs WHERE run_id = ? AND status = 'running'",
                (run_id,),
            ).fetchall()
        lapses = [row["lease_until"] or 0.0 for row in rows if row["id"] not in held]
        return min(lapses) if lapses else None

    def finish(
        self, job: Job, status: JobStatus, error: str | None = None, *,
        before: Callable[[], None] | None = None,
    ) -> bool:  # fmt: skip
        """End a held job; `before` (writing its results) runs inside the same transaction.
        False, with nothing done, when the lease was taken over. Blocking when `before`
        writes files: async callers run it in a thread."""
        return self._settle(
            job,
            "UPDATE jobs SET status = ?, error = ?, finished = ?, owner = NULL, "
            "lease_until = NULL WHERE id = ?",
            (status, error, time.time(), job.id),
            before,
        )

    def requeue(
        self, job: Job, error: str | None = None, *, before: Callable[[], None] | None = None
    ) -> bool:
        """Put a held job back, e.g. when interrupted or its node went away."""
        return self._settle(
            job,
            "UPDATE jobs SET status = 'queued', owner = NULL, node = NULL, lease_until = NULL, "
            "error = ? WHERE id = ?",
            (error, job.id),
            before,
        )

    def fenced(self, job: Job, action: Callable[[], _Result]) -> _Result:
        """Run `action` (a file write) while the job is held, atomically with respect to any
        claim; raises LeaseLost instead when it was taken over. Blocking."""
        with self._writes.write() as db:
            if not _holds(db, job):
                raise LeaseLost(job.id)
            return action()

    def requeue_failed(self, run_id: str) -> int:
        with self._writes.write() as db:
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
        with self._writes.write() as db:
            return db.execute(query, params).rowcount

    def move_to_front(self, job_id: str) -> None:
        with self._writes.write() as db:
            top = db.execute("SELECT COALESCE(MAX(priority), 0) FROM jobs").fetchone()[0]
            db.execute("UPDATE jobs SET priority = ? WHERE id = ?", (top + 1, job_id))

    def _settle(
        self, job: Job, statement: str, params: tuple, before: Callable[[], None] | None
    ) -> bool:
        with self._writes.write() as db:
            if not _holds(db, job):
                return False
            if before is not None:
                before()
            db.execute(statement, params)
        return True


def _holds(db: sqlite3.Connection, job: Job) -> bool:
    row = db.execute(
        "SELECT 1 FROM jobs WHERE id = ? AND generation = ? AND status = 'running'",
        (job.id, job.generation),
    ).fetchone()
    return row is not None


def _live_holder(owner: str | None, lease_until: float | None, now: float) -> Holder | None:
    holder = Holder.from_json(owner)
    return None if lease_free(holder, lease_until, now) else holder
