"""Leases as users meet them: real `stablenew run` processes, killed, frozen and resumed,
against a real simulator and the real queue file."""

from __future__ import annotations

import asyncio
import hashlib
import signal
import socket
import sqlite3
import time
from pathlib import Path

import pytest

from stablenew_tui.learning.records import read_records
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.holders import Holder
from stablenew_tui.pipeline.outputs import MANIFEST_NAME, read_manifest
from stablenew_tui.sim import SimServer
from tests.integration.test_run_cli import stablenew_async

EXIT_BUSY = 75


def queue_path() -> Path:
    return AppPaths.from_environment().data_dir / "queue.sqlite3"


def use_lease(seconds: float) -> None:
    config = AppPaths.from_environment().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"[queue]\nlease_seconds = {seconds}\n")


async def start_run(sim: SimServer, images: int, *extra: str) -> asyncio.subprocess.Process:
    """`stablenew run` of ~2 s images (30 steps unless `extra` says otherwise), returned once
    its first image is being made."""
    process = await stablenew_async(
        "run", "--node", sim.url, "--prompt", "a slow lighthouse", "--images-per-prompt",
        str(images), "--steps", "30", "--size", "512x512", *extra,
    )  # fmt: skip
    while b"txt2img started" not in await asyncio.wait_for(process.stdout.readline(), 60):
        pass
    return process


async def finish(*args: str) -> tuple[int, str, str]:
    process = await stablenew_async(*args)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, stdout.decode(), stderr.decode()


def run_folder() -> Path:
    (folder,) = AppPaths.from_environment().default_output_root.iterdir()
    return folder


def assert_each_image_once(folder: Path, images: int) -> None:
    lines = read_manifest(folder)
    assert sorted(line["index"] for line in lines) == list(range(images))
    for line in lines:
        assert hashlib.sha256((folder / line["path"]).read_bytes()).hexdigest() == line["sha256"]
    assert len(list((folder / "txt2img").iterdir())) == images, "no extra or partial files"
    records = read_records(AppPaths.from_environment().data_dir / "records.jsonl").records
    assert sorted(r["job_id"] for r in records) == sorted(line["job_id"] for line in lines)


def record_holder(holder: Holder, lease_until: float) -> None:
    """What the run's process left in the queue, as if it had run as `holder`."""
    db = sqlite3.connect(queue_path())
    db.execute("UPDATE runs SET owner = ?, lease_until = ?", (holder.to_json(), lease_until))
    db.execute(
        "UPDATE jobs SET owner = ?, lease_until = ? WHERE status = 'running'",
        (holder.to_json(), lease_until),
    )
    db.commit()
    db.close()


@pytest.mark.parametrize(
    "holder",
    [
        Holder("render-box", 4242, time.time(), "other-boot/pid:[1]/77"),  # another host
        Holder(socket.gethostname(), 1, time.time(), None),  # PID 1: alive, but not the owner
    ],
    ids=["another-host", "reused-pid"],
)
async def test_a_run_left_by_a_vanished_process_resumes_once_its_lease_lapses(holder):
    async with SimServer(speed=1) as sim:
        process = await start_run(sim, images=3)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        record_holder(holder, lease_until=time.time() + 600)

        code, _, stderr = await finish("run", "--node", sim.url, "--resume")
        assert code == EXIT_BUSY, stderr
        assert f"is being run by {holder.host} pid {holder.pid} (since " in stderr
        assert "Traceback" not in stderr

        record_holder(holder, lease_until=time.time() - 1)  # it never renewed: lapsed
        code, stdout, stderr = await finish("run", "--node", sim.url, "--resume")
    assert code == 0, stderr
    assert "run finished: 3 done" in stdout
    assert_each_image_once(run_folder(), 3)


async def test_a_second_resume_is_refused_naming_the_first_or_waits_for_it():
    use_lease(1.0)
    async with SimServer(speed=1) as sim:
        first = await start_run(sim, images=3)
        await asyncio.sleep(1.5)  # past one lease: the first process keeps renewing it
        code, _, stderr = await finish("run", "--node", sim.url, "--resume")
        assert code == EXIT_BUSY, stderr
        assert f"{socket.gethostname()} pid {first.pid} (since " in stderr
        assert "--resume --wait" in stderr

        waiting = await stablenew_async("run", "--node", sim.url, "--resume", "--wait")
        waited = await asyncio.wait_for(waiting.stdout.readline(), 60)
        assert f"pid {first.pid}" in waited.decode() and "waiting for it to end" in waited.decode()
        _, first_stderr = await asyncio.wait_for(first.communicate(), 60)
        stdout, stderr = await asyncio.wait_for(waiting.communicate(), 60)
    assert first.returncode == 0, first_stderr.decode()
    assert waiting.returncode == 0, stderr.decode()
    assert "run finished: 3 done" in stdout.decode()
    assert_each_image_once(run_folder(), 3)


async def test_a_frozen_process_whose_lease_was_taken_over_writes_nothing():
    use_lease(1.0)
    async with SimServer(speed=1) as slow, SimServer(speed=0) as fast:
        # Its image takes ~10 s on the slow node; it is frozen two seconds into it.
        stale = await start_run(slow, 2, "--steps", "150")
        stale.send_signal(signal.SIGSTOP)  # a frozen machine, a suspended laptop
        try:
            await asyncio.sleep(1.5)  # its lease lapses
            code, _, stderr = await finish("run", "--node", fast.url, "--resume")
            assert code == 0, stderr
            folder = run_folder()
            images = {path: path.stat().st_ino for path in (folder / "txt2img").iterdir()}
            manifest_bytes = (folder / MANIFEST_NAME).read_bytes()
        finally:
            stale.send_signal(signal.SIGCONT)  # it wakes while its image is still being made
        stale_out, stale_err = await asyncio.wait_for(stale.communicate(), 60)
        assert len(slow.requests.for_path("/sdapi/v1/txt2img")) == 1
    assert stale.returncode == EXIT_BUSY, stale_err.decode()
    assert "was taken over by another process" in stale_out.decode()
    assert "run taken over by another process" in stale_out.decode()
    assert "Traceback" not in stale_err.decode()
    # The stale process got its image, and put no file in place and wrote no line.
    assert {path: path.stat().st_ino for path in (folder / "txt2img").iterdir()} == images
    assert (folder / MANIFEST_NAME).read_bytes() == manifest_bytes
    assert_each_image_once(folder, 2)
    assert not [p for p in folder.rglob("*") if p.name.startswith(".")], "no temp files left"
