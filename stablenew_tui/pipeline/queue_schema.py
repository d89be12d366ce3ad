"""The queue's tables, how a database written by an earlier version is brought up to date,
and how rows become jobs and runs.

`PRAGMA user_version` holds the schema version. Version 0 (the first release) identified the
process running a job by "host:pid"; version 1 adds leases: `owner` becomes a JSON `Holder`
(information only), `lease_until` says until when the holder's claim stands, `generation`
counts the claims so a holder whose lease was taken over can be told apart. Version 2 gives
each job its checkpoint as a column (`model`, from its spec), so a node can claim the next
job for the checkpoint it has loaded from an index, as it claims the next job of the run.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from stablenew_tui.errors import StableNewError
from stablenew_tui.pipeline.holders import Holder
from stablenew_tui.pipeline.jobs import Job, PromptSpec, Run
from stablenew_tui.pipeline.settings import PipelineSettings

SCHEMA_VERSION = 2

_TABLES = [
    """CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created REAL NOT NULL,
        folder TEXT NOT NULL,
        settings TEXT NOT NULL,
        source TEXT NOT NULL,
        paused INTEGER NOT NULL DEFAULT 0,
        owner TEXT,
        lease_until REAL,
        generation INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS jobs (
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
        finished REAL,
        lease_until REAL,
        generation INTEGER NOT NULL DEFAULT 0,
        model TEXT
    )""",
]
# The claim order, so taking the next job (of the run, or of one checkpoint of it) reads one
# index entry whatever the queue's size.
_INDEXES = [
    "DROP INDEX IF EXISTS jobs_by_status",
    "CREATE INDEX IF NOT EXISTS jobs_claim_order ON jobs(run_id, status, priority DESC, idx)",
    "CREATE INDEX IF NOT EXISTS jobs_claim_by_model "
    "ON jobs(run_id, status, model, priority DESC, idx)",
]
_ADDED_IN_1 = {
    "runs": ["owner TEXT", "lease_until REAL", "generation INTEGER NOT NULL DEFAULT 0"],
    "jobs": ["lease_until REAL", "generation INTEGER NOT NULL DEFAULT 0"],
}
_ADDED_IN_2 = {"jobs": ["model TEXT"]}

JOB_COLUMNS = (
    "id, run_id, idx, prompt_index, seed, spec, status, priority, attempts, node, error, "
    "created, started, finished, generation, model"
)
JOB_PLACEHOLDERS = ", ".join("?" for _ in JOB_COLUMNS.split(","))


def prepare_schema(db: sqlite3.Connection, path: Path) -> None:
    """Create the tables, or bring an older queue up to date, in one transaction (two
    processes opening an old queue at once migrate it once)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StableNewError(
                f"{path}: this queue was written by a newer StableNew (schema {version}); "
                "update StableNew to use it"
            )
        if version < SCHEMA_VERSION:
            _add_missing_columns(db)
            for statement in _TABLES + _INDEXES:
                db.execute(statement)
            _holders_from_host_pid(db)
            _models_from_specs(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _add_missing_columns(db: sqlite3.Connection) -> None:
    for added in (_ADDED_IN_1, _ADDED_IN_2):
        for table, columns in added.items():
            present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            if not present:
                continue  # a new database: created whole below
            for column in columns:
                if column.split()[0] not in present:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


def _models_from_specs(db: sqlite3.Connection) -> None:
    """Versions before 2 kept a job's checkpoint in its spec only."""
    db.execute(
        "UPDATE jobs SET model = json_extract(spec, '$.model') "
        "WHERE model IS NULL AND json_extract(spec, '$.model') IS NOT NULL"
    )


def _holders_from_host_pid(db: sqlite3.Connection) -> None:
    """Version 0 wrote "host:pid" for a running job. Kept as information, with no lease: the
    job is free to claim (the process that wrote it predates leases and will not renew)."""
    rows = db.execute(
        "SELECT id, owner, started FROM jobs WHERE owner IS NOT NULL AND lease_until IS NULL"
    ).fetchall()
    for job_id, owner, started in rows:
        if Holder.from_json(owner) is not None:
            continue
        host, _, pid = str(owner).rpartition(":")
        holder = Holder(host, int(pid) if pid.isdigit() else 0, started or 0.0)
        db.execute("UPDATE jobs SET owner = ? WHERE id = ?", (holder.to_json(), job_id))


def job_row(job: Job) -> tuple:
    return (
        job.id, job.run_id, job.index, job.prompt_index, job.seed, job.spec.model_dump_json(),
        job.status, job.priority, job.attempts, job.node, job.error, job.created, job.started,
        job.finished, job.generation, job.spec.model,
    )  # fmt: skip


def job_from(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"], run_id=row["run_id"], index=row["idx"], prompt_index=row["prompt_index"],
        seed=row["seed"], spec=PromptSpec.model_validate_json(row["spec"]), status=row["status"],
        priority=row["priority"], attempts=row["attempts"], node=row["node"], error=row["error"],
        created=row["created"], started=row["started"], finished=row["finished"],
        generation=row["generation"],
    )  # fmt: skip


def run_from(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"], name=row["name"], created=row["created"], folder=row["folder"],
        settings=PipelineSettings.model_validate_json(row["settings"]),
        source=json.loads(row["source"]), paused=bool(row["paused"]),
    )  # fmt: skip
