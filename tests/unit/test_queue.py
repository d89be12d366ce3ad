import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from stablenew_tui.pipeline.claims import Choice, next_queued
from stablenew_tui.pipeline.jobs import PromptSpec, plan_run
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.pipeline.queue_schema import SCHEMA_VERSION
from stablenew_tui.pipeline.settings import merge_settings


def add_run(queue: JobQueue, images: int = 4):
    settings = merge_settings(("t", {"images_per_prompt": images, "txt2img": {"seed": 1}}))
    specs = [(0, PromptSpec(prompt="p"))] * images
    run, jobs = plan_run(specs, settings, base_seed=1, name="t", folder="/tmp/r")
    queue.add_run(run, jobs)
    return run, jobs


def test_claim_in_order_and_finish(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    run, jobs = add_run(queue)
    first = queue.claim(run.id, "node-a")
    assert first.id == jobs[0].id and first.status == "running" and first.attempts == 1
    assert first.generation == 1
    assert queue.finish(first, "done")
    assert queue.claim(run.id, "node-a").id == jobs[1].id
    assert queue.counts(run.id) == {"done": 1, "running": 1, "queued": 2}


def test_concurrent_claims_never_take_the_same_job(tmp_path):
    """Workers with their own connections to one queue file claim at the same moment (a
    barrier releases them together): each job goes to exactly one of them."""
    path = tmp_path / "q.sqlite3"
    run, jobs = add_run(JobQueue(path), images=120)
    workers = 4
    start = threading.Barrier(workers)
    claimed: list[list[str]] = [[] for _ in range(workers)]

    def claim_all(worker: int) -> None:
        queue = JobQueue(path)  # a connection belongs to its thread
        try:
            start.wait()
            while (job := queue.claim(run.id, f"node-{worker}")) is not None:
                claimed[worker].append(job.id)
                time.sleep(0.001)  # a moment on the job, so the lock changes hands
        finally:
            queue.close()

    with ThreadPoolExecutor(workers) as pool:
        for outcome in [pool.submit(claim_all, worker) for worker in range(workers)]:
            outcome.result()
    every_claim = [job_id for ids in claimed for job_id in ids]
    assert sorted(every_claim) == sorted(job.id for job in jobs), "each job claimed once"
    assert sum(1 for ids in claimed if ids) > 1, "the workers really raced"


def test_pause_holds_claims(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    run, _ = add_run(queue)
    queue.set_paused(run.id, True)
    assert queue.claim(run.id, "a") is None
    queue.set_paused(run.id, False)
    assert queue.claim(run.id, "a") is not None


def test_cancel_requeue_failed_and_reorder(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    run, jobs = add_run(queue)
    job = queue.claim(run.id, "a")
    queue.finish(job, "failed", "boom")
    assert queue.job(job.id).error == "boom"
    queue.move_to_front(jobs[3].id)
    assert queue.claim(run.id, "a").id == jobs[3].id
    assert queue.requeue_failed(run.id) == 1
    assert queue.job(job.id).status == "queued"
    assert queue.cancel(run.id, jobs[2].id) == 1
    assert queue.job(jobs[2].id).status == "cancelled"
    assert queue.cancel(run.id) == 2  # jobs[0] (requeued) and jobs[1]


def test_latest_unfinished_run(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    assert queue.latest_unfinished_run() is None
    run, _ = add_run(queue, images=1)
    assert queue.latest_unfinished_run().id == run.id
    queue.finish(queue.claim(run.id, "a"), "done")
    assert queue.latest_unfinished_run() is None


def test_claim_reads_the_index_instead_of_sorting_the_queue(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    run, _ = add_run(queue, images=50)
    db = sqlite3.connect(queue.path)
    db.execute("ANALYZE")  # the plan must hold with statistics too
    for skipped in ([], [f"{run.id}-00000", f"{run.id}-00001"]):
        query = next_queued(len(skipped))
        plan = " | ".join(
            row[3] for row in db.execute("EXPLAIN QUERY PLAN " + query, (run.id, *skipped))
        )
        assert "USING INDEX jobs_claim_order" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
        # The claim statement itself (the UPDATE around it) plans the same way.
        claim = f"UPDATE jobs SET status = 'running' WHERE id = ({query})"
        plan = " | ".join(
            row[3] for row in db.execute("EXPLAIN QUERY PLAN " + claim, (run.id, *skipped))
        )
        assert "jobs_claim_order" in plan and "TEMP B-TREE" not in plan, plan
        # The next job of one checkpoint likewise, from its own index.
        query = next_queued(len(skipped), of_model=True)
        params = (run.id, "model.safetensors", *skipped)
        plan = " | ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + query, params))
        assert "USING INDEX jobs_claim_by_model" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


def test_a_claim_passes_over_the_jobs_a_node_could_not_make(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    run, jobs = add_run(queue, images=3)
    claimed = queue.claim(run.id, "a", skip={jobs[0].id})
    assert claimed.id == jobs[1].id
    assert queue.claim(run.id, "a", skip={jobs[0].id, jobs[2].id}) is None
    assert queue.claim(run.id, "b").id == jobs[0].id


# The schema of the first release, before leases, as a user's queue file still has it.
SCHEMA_0 = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created REAL NOT NULL, folder TEXT NOT NULL,
    settings TEXT NOT NULL, source TEXT NOT NULL, paused INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE jobs (
    id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id), idx INTEGER NOT NULL,
    prompt_index INTEGER NOT NULL, seed INTEGER NOT NULL, spec TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued', priority INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0, node TEXT, owner TEXT, error TEXT,
    created REAL NOT NULL, started REAL, finished REAL
);
CREATE INDEX jobs_by_status ON jobs(status, run_id, priority, idx);
"""


def test_a_queue_from_the_first_release_is_migrated_not_broken(tmp_path):
    path = tmp_path / "q.sqlite3"
    settings = merge_settings(("t", {"txt2img": {"seed": 5}}))
    specs = [(0, PromptSpec(prompt="p"))] * 3
    run, jobs = plan_run(specs, settings, base_seed=5, name="old", folder=str(tmp_path / "r"))
    old = sqlite3.connect(path)
    old.executescript(SCHEMA_0)
    old.execute(
        "INSERT INTO runs VALUES (?, ?, ?, ?, ?, '{}', 0)",
        (run.id, run.name, run.created, run.folder, settings.model_dump_json()),
    )
    rows = [
        (job.id, run.id, job.index, 0, job.seed, job.spec.model_dump_json(), job.created)
        for job in jobs
    ]
    old.executemany(
        "INSERT INTO jobs (id, run_id, idx, prompt_index, seed, spec, created) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    # A job the old version left running on another machine, and one it finished.
    old.execute(
        "UPDATE jobs SET status = 'running', owner = 'render-box:4242', attempts = 1, "
        "started = 1.0 WHERE id = ?",
        (jobs[0].id,),
    )
    old.execute("UPDATE jobs SET status = 'done', attempts = 1 WHERE id = ?", (jobs[2].id,))
    old.commit()
    old.close()

    queue = JobQueue(path)
    assert queue.run(run.id).settings == settings
    assert queue.counts(run.id) == {"running": 1, "queued": 1, "done": 1}
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    indexes = {row[1] for row in db.execute("PRAGMA index_list(jobs)")}
    assert "jobs_claim_order" in indexes and "jobs_by_status" not in indexes
    # The old "host:pid" stays as information; with no lease, the job is free at once.
    first = queue.claim(run.id, "a")
    assert first.id == jobs[0].id and first.attempts == 2 and first.generation == 1
    assert queue.claim(run.id, "a").id == jobs[1].id
    assert queue.claim(run.id, "a") is None
    queue.take_run(run.id)  # runs gained their lease columns too
    # Opening it again changes nothing.
    again = JobQueue(path)
    assert again.counts(run.id) == {"running": 2, "done": 1}


def test_a_version_1_queue_gains_each_jobs_checkpoint_as_a_column(tmp_path):
    """A queue written before jobs had a `model` column: the migration fills it from each
    job's spec, and a claim for one checkpoint finds them."""
    path = tmp_path / "q.sqlite3"
    settings = merge_settings(("t", {"txt2img": {"seed": 5}}))
    specs = [(0, PromptSpec(prompt="p", model=name)) for name in ("a.ckpt", "b.ckpt", None)]
    run, jobs = plan_run(specs, settings, base_seed=5, name="v1", folder=str(tmp_path / "r"))
    old = sqlite3.connect(path)
    old.executescript(SCHEMA_0)
    old.executescript(
        "ALTER TABLE runs ADD COLUMN owner TEXT; ALTER TABLE runs ADD COLUMN lease_until REAL;"
        "ALTER TABLE runs ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE jobs ADD COLUMN lease_until REAL;"
        "ALTER TABLE jobs ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;"
        "DROP INDEX jobs_by_status;"
        "CREATE INDEX jobs_claim_order ON jobs(run_id, status, priority DESC, idx);"
        "PRAGMA user_version = 1;"
    )
    old.execute(
        "INSERT INTO runs (id, name, created, folder, settings, source) "
        "VALUES (?, ?, ?, ?, ?, '{}')",
        (run.id, run.name, run.created, run.folder, settings.model_dump_json()),
    )
    old.executemany(
        "INSERT INTO jobs (id, run_id, idx, prompt_index, seed, spec, created) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(j.id, run.id, j.index, 0, j.seed, j.spec.model_dump_json(), j.created) for j in jobs],
    )
    old.commit()
    old.close()

    queue = JobQueue(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [row[0] for row in db.execute("SELECT model FROM jobs ORDER BY idx")] == [
        "a.ckpt", "b.ckpt", None,
    ]  # fmt: skip

    def first_of_b(glance):
        found = glance.first("b.ckpt")
        return Choice(found.id) if found else Choice(wait=True)

    second = queue.claim(run.id, "n", choose=first_of_b)
    assert second.id == jobs[1].id and second.spec.model == "b.ckpt"
    assert queue.claim(run.id, "n", choose=first_of_b) is None, "none left of b.ckpt"
    assert queue.claim(run.id, "n").id == jobs[0].id


def test_a_glance_sees_the_first_job_and_the_jobs_per_checkpoint(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    settings = merge_settings(("t", {"txt2img": {"seed": 5}}))
    specs = [(0, PromptSpec(prompt="p", model=name)) for name in ("a", "b", "b", "a", "b")]
    run, jobs = plan_run(specs, settings, base_seed=5, name="g", folder=str(tmp_path / "r"))
    queue.add_run(run, jobs)
    seen = []

    def look(glance):
        seen.append((glance.first().id, glance.first("a").id, glance.waiting()))
        return Choice(wait=True)

    assert queue.claim(run.id, "n", skip={jobs[0].id}, choose=look) is None
    assert seen == [(jobs[1].id, jobs[3].id, {"a": 2, "b": 3})]
    assert queue.counts(run.id) == {"queued": 5}, "waiting claims nothing"
