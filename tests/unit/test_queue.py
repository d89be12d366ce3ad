import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from stablenew_tui.pipeline.jobs import PromptSpec, plan_run
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.pipeline.settings import merge_settings


def _add_run(queue: JobQueue, images: int = 4):
    settings = merge_settings(("t", {"images_per_prompt": images, "txt2img": {"seed": 1}}))
    specs = [(0, PromptSpec(prompt="p"))] * images
    run, jobs = plan_run(specs, settings, base_seed=1, name="t", folder="/tmp/r")
    queue.add_run(run, jobs)
    return run, jobs


def test_claim_in_order_and_finish(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    run, jobs = _add_run(queue)
    first = queue.claim(run.id, "node-a")
    assert first.id == jobs[0].id and first.status == "running" and first.attempts == 1
    queue.finish(first.id, "done")
    assert queue.claim(run.id, "node-a").id == jobs[1].id
    assert queue.counts(run.id) == {"done": 1, "running": 1, "queued": 2}


def test_concurrent_claims_never_take_the_same_job(tmp_path):
    """Workers with their own connections to one queue file claim at the same moment (a
    barrier releases them together): each job goes to exactly one of them."""
    path = tmp_path / "q.sqlite3"
    run, jobs = _add_run(JobQueue(path), images=120)
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
    run, _ = _add_run(queue)
    queue.set_paused(run.id, True)
    assert queue.claim(run.id, "a") is None
    queue.set_paused(run.id, False)
    assert queue.claim(run.id, "a") is not None


def test_cancel_requeue_failed_and_reorder(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    run, jobs = _add_run(queue)
    job = queue.claim(run.id, "a")
    queue.finish(job.id, "failed", "boom")
    assert queue.job(job.id).error == "boom"
    queue.move_to_front(jobs[3].id)
    assert queue.claim(run.id, "a").id == jobs[3].id
    assert queue.requeue_failed(run.id) == 1
    assert queue.job(job.id).status == "queued"
    assert queue.cancel(run.id, jobs[2].id) == 1
    assert queue.job(jobs[2].id).status == "cancelled"
    assert queue.cancel(run.id) == 2  # jobs[0] (requeued) and jobs[1]


def test_jobs_of_a_dead_process_go_back_to_queued(tmp_path):
    path = tmp_path / "q.sqlite3"
    queue = JobQueue(path)
    run, _ = _add_run(queue)
    # Another process claims a job and dies without finishing it.
    script = (
        "import sys; from pathlib import Path; from stablenew_tui.pipeline.queue import JobQueue;"
        f"q = JobQueue(Path({str(path)!r})); print(q.claim({run.id!r}, 'x').id)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    orphan = out.stdout.strip()
    assert queue.job(orphan).status == "running"
    assert JobQueue(path).job(orphan).status == "queued"


def test_our_own_running_jobs_are_not_orphans(tmp_path):
    path = tmp_path / "q.sqlite3"
    queue = JobQueue(path)
    run, _ = _add_run(queue)
    job = queue.claim(run.id, "a")
    assert JobQueue(path).job(job.id).status == "running"


def test_latest_unfinished_run(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    assert queue.latest_unfinished_run() is None
    run, _ = _add_run(queue, images=1)
    assert queue.latest_unfinished_run().id == run.id
    queue.finish(queue.claim(run.id, "a").id, "done")
    assert queue.latest_unfinished_run() is None
