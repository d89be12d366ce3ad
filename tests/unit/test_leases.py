"""Leases on a real SQLite file, with real processes where a process's life is the point."""

import dataclasses
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from stablenew_tui.pipeline.holders import Holder, RunBusy, this_process
from stablenew_tui.pipeline.leases import LeaseKeeper
from stablenew_tui.pipeline.queue import JobQueue, LeaseLost
from tests.unit.test_queue import add_run

LEASE = 1.0  # the shortest the config allows


def claim_in_another_process(path, run_id: str) -> str:
    """A real process claims a job and exits without finishing it; returns the job id."""
    script = (
        "from pathlib import Path; from stablenew_tui.pipeline.queue import JobQueue;"
        f"q = JobQueue(Path({str(path)!r})); print(q.claim({run_id!r}, 'x').id)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def set_owner(path, job_id: str, holder: Holder, lease_until: float) -> None:
    """Write the holder a process elsewhere would have recorded."""
    db = sqlite3.connect(path)
    db.execute(
        "UPDATE jobs SET owner = ?, lease_until = ? WHERE id = ?",
        (holder.to_json(), lease_until, job_id),
    )
    db.commit()
    db.close()


def test_a_job_of_a_process_that_exited_on_this_machine_is_free_at_once(tmp_path):
    path = tmp_path / "q.sqlite3"
    queue = JobQueue(path)  # 60 s leases: only proof of the exit frees it this soon
    run, _ = add_run(queue, images=1)
    orphan = claim_in_another_process(path, run.id)
    assert queue.job(orphan).status == "running"
    again = queue.claim(run.id, "a")
    assert again.id == orphan and again.generation == 2 and again.attempts == 2


def test_a_job_held_on_another_host_is_free_once_its_lease_lapses(tmp_path):
    path = tmp_path / "q.sqlite3"
    queue = JobQueue(path, lease_seconds=LEASE)
    run, _ = add_run(queue, images=1)
    job = queue.claim(run.id, "a")
    elsewhere = Holder("render-box", os.getpid(), time.time(), "other-boot/pid:[1]/1")
    set_owner(path, job.id, elsewhere, time.time() + LEASE)
    other = JobQueue(path, lease_seconds=LEASE)
    assert other.claim(run.id, "b") is None, "a live lease on another host is respected"
    time.sleep(LEASE + 0.1)
    taken = other.claim(run.id, "b")
    assert taken.id == job.id and taken.generation == 2


def test_a_reused_pid_does_not_keep_a_job_forever(tmp_path):
    """PID 1 is alive in any container; a job recorded under it must still come back."""
    path = tmp_path / "q.sqlite3"
    queue = JobQueue(path, lease_seconds=LEASE)
    run, _ = add_run(queue, images=1)
    job = queue.claim(run.id, "a")
    # Recorded without a process key (as by another system): only the lease can tell.
    set_owner(path, job.id, Holder(socket.gethostname(), 1, 0.0, None), time.time() + LEASE)
    assert queue.claim(run.id, "a") is None
    time.sleep(LEASE + 0.1)
    assert queue.claim(run.id, "a").id == job.id


def test_a_pid_now_used_by_a_later_process_is_seen_as_gone(tmp_path):
    path = tmp_path / "q.sqlite3"
    queue = JobQueue(path)
    run, _ = add_run(queue, images=1)
    job = queue.claim(run.id, "a")
    me = this_process()
    boot, namespace, started = me.process.rsplit("/", 2)
    earlier = dataclasses.replace(me, process=f"{boot}/{namespace}/{int(started) - 1}")
    set_owner(path, job.id, earlier, time.time() + 60)
    assert earlier.certainly_gone() and not me.certainly_gone()
    assert queue.claim(run.id, "a").id == job.id


def test_a_holder_whose_lease_was_taken_over_cannot_complete_or_write(tmp_path):
    path = tmp_path / "q.sqlite3"
    stale_queue, queue = JobQueue(path, lease_seconds=LEASE), JobQueue(path)
    run, _ = add_run(queue, images=1)
    stale = stale_queue.claim(run.id, "a")
    time.sleep(LEASE + 0.1)  # the holder froze; its lease lapsed
    current = queue.claim(run.id, "b")
    assert (current.id, current.generation) == (stale.id, 2)

    written = []
    with pytest.raises(LeaseLost):
        stale_queue.fenced(stale, lambda: written.append("stale"))
    assert not stale_queue.finish(stale, "done", before=lambda: written.append("stale"))
    assert not stale_queue.requeue(stale, "interrupted")
    assert written == [] and queue.job(stale.id).status == "running"
    renewal = stale_queue.renew(stale_queue.take_run(run.id), [stale])
    assert [job.id for job in renewal.lost_jobs] == [stale.id]

    assert queue.fenced(current, lambda: "written") == "written"
    assert queue.finish(current, "done", before=lambda: written.append("current"))
    assert written == ["current"] and queue.job(stale.id).status == "done"


def test_renewing_keeps_a_job_and_a_failed_write_keeps_it_running(tmp_path):
    path = tmp_path / "q.sqlite3"
    queue, other = JobQueue(path, lease_seconds=LEASE), JobQueue(path, lease_seconds=LEASE)
    run, _ = add_run(queue, images=1)
    lease = queue.take_run(run.id)
    job = queue.claim(run.id, "a")
    for _ in range(5):
        time.sleep(LEASE / 3)
        assert queue.renew(lease, [job]).lost_jobs == []
        assert other.claim(run.id, "b") is None

    def disk_full():
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        queue.finish(job, "done", before=disk_full)
    assert queue.job(job.id).status == "running", "nothing is marked done that was not written"
    assert queue.finish(job, "done")


def test_one_live_process_per_run(tmp_path):
    path = tmp_path / "q.sqlite3"
    first, second = JobQueue(path, lease_seconds=LEASE), JobQueue(path, lease_seconds=LEASE)
    run, _ = add_run(first, images=1)
    lease = first.take_run(run.id)
    with pytest.raises(RunBusy) as busy:
        second.take_run(run.id)
    holder = busy.value.holder
    assert (holder.host, holder.pid) == (socket.gethostname(), os.getpid())
    assert f"pid {os.getpid()} (since " in str(busy.value)
    first.release_run(lease)
    released = second.take_run(run.id)
    # A holder that stops renewing loses the run to the next process once the lease lapses.
    time.sleep(LEASE + 0.1)
    taken = first.take_run(run.id)
    assert taken.generation == released.generation + 1
    assert not second.renew(released, []).run_kept


RACER = """
import sys, time
from pathlib import Path
from stablenew_tui.pipeline.queue import JobQueue
queue = JobQueue(Path(sys.argv[1]))
go = Path(sys.argv[3])
print("ready", flush=True)
while not go.exists():
    pass
claimed = []
while (job := queue.claim(sys.argv[2], "n")) is not None:
    claimed.append(f"{job.id} {job.generation}")
    time.sleep(0.001)  # the work, short: claims stay the busy part
    queue.finish(job, "done")
print("\\n".join(claimed), flush=True)
"""


def test_concurrent_claimers_never_share_a_job(tmp_path):
    path, go = tmp_path / "q.sqlite3", tmp_path / "go"
    queue = JobQueue(path)
    run, jobs = add_run(queue, images=300)
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(path), run.id, str(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for racer in racers:
        assert racer.stdout.readline() == "ready\n"
    go.touch()  # all four are spinning: they start claiming together
    outputs = [racer.communicate(timeout=120)[0].split("\n") for racer in racers]
    assert all(racer.returncode == 0 for racer in racers)
    claims = [line.split() for output in outputs for line in output if line]
    assert sorted(job_id for job_id, _ in claims) == sorted(job.id for job in jobs)
    assert {generation for _, generation in claims} == {"1"}
    assert sum(1 for output in outputs if any(output)) >= 2, "the claimers really raced"
    assert queue.counts(run.id) == {"done": 300}


def test_holder_information_survives_the_database(tmp_path):
    me = this_process()
    assert Holder.from_json(me.to_json()) == me
    assert Holder.from_json("render-box:4242") is None
    assert json.loads(me.to_json())["host"] == socket.gethostname()


async def test_a_job_claimed_again_while_its_old_claim_is_still_held_is_not_taken_over(tmp_path):
    """A worker waiting for its node still holds the claim of a job that went back to the
    queue; another worker claims the job again. The old claim is lost, the new one is not,
    and giving back the old one leaves the new one held."""
    queue = JobQueue(tmp_path / "q.sqlite3")
    run, _ = add_run(queue, images=1)
    keeper = LeaseKeeper(queue, queue.take_run(run.id), on_run_lost=lambda holder: None)
    first = queue.claim(run.id, "a")
    keeper.hold(first)
    assert queue.requeue(first, "stalled")
    await keeper.renew()
    assert keeper.taken_over(first)

    again = queue.claim(run.id, "b")
    assert again.id == first.id
    keeper.hold(again)
    assert not keeper.taken_over(again)
    keeper.release(first)
    await keeper.renew()
    assert not keeper.taken_over(again) and keeper.held == {(again.id, again.generation): again}
