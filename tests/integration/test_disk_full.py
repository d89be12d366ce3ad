"""A full disk stops a run cleanly, on real small disks (tmpfs; root only, skipped otherwise):
the image in hand goes back to the queue, nothing is torn, one message says which disk and
what to do, exit 1; once space is freed, `--resume` finishes every image exactly once. In an
interactive session the run pauses instead, until resumed."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from stablenew_tui.jsonl import parse_line
from stablenew_tui.learning.records import read_records
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.events import LocalFailure, RunFinished
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.pipeline.outputs import MANIFEST_NAME, read_manifest
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.services.control import RunControl
from stablenew_tui.sim import SimServer
from tests.disk_helpers import fill_disk, remount, small_disk
from tests.integration.pipeline_helpers import launcher_for, next_event
from tests.integration.test_leases import finish, queue_path
from tests.integration.test_run_cli import stablenew_async

STAGES = ("txt2img", "img2img", "upscale")
# About 60 KB of images per job: a 256k disk holds a few jobs, never eight.
THREE_STAGES = ["--stages", ",".join(STAGES), "--upscaler", "Lanczos", "--scale", "2"]
FLAGS = {
    "stages": list(STAGES),
    "txt2img": {"steps": 2, "width": 256, "height": 256},
    "upscale": {"upscaler": "Lanczos", "scale": 2.0},
}


def run_args(sim: SimServer, out: Path, images: int, steps: int = 2) -> list[str]:
    return [
        "run", "--node", sim.url, "--prompt", "a lighthouse", "--images-per-prompt",
        str(images), "--steps", str(steps), "--size", "256x256", *THREE_STAGES,
        "--out", str(out),
    ]  # fmt: skip


def resume_message(folder: Path) -> str:
    return (
        f"stablenew: no space left on the disk holding {folder}; "
        "free space and run `stablenew run --resume`\n"
    )


def queue_counts() -> dict[str, int]:
    queue = JobQueue(queue_path())
    try:
        (run,) = queue.runs()
        return queue.counts(run.id)
    finally:
        queue.close()


def assert_whole(folder: Path, images: int | None = None) -> None:
    """Every manifest line whole and naming a file with its bytes; no temporary files; with
    `images`, every stage of every image there exactly once, in files and records alike."""
    raw = (folder / MANIFEST_NAME).read_text() if (folder / MANIFEST_NAME).exists() else ""
    assert raw == "" or raw.endswith("\n"), "the manifest ends on a whole line"
    assert all(parse_line(line) for line in raw.splitlines()), "every manifest line is whole"
    lines = read_manifest(folder)
    for line in lines:
        data = (folder / line["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == line["sha256"], line["path"]
    leftovers = [p.name for p in folder.rglob("*") if p.name.startswith(".") or ".part" in p.name]
    assert leftovers == [], "no temporary or partial files"
    if images is None:
        return
    keys = sorted((line["job_id"], line["stage"]) for line in lines)
    assert len(keys) == len(set(keys)) == images * len(STAGES)
    for stage in STAGES:
        assert len(list((folder / stage).iterdir())) == images, stage
    records = read_records(AppPaths.from_environment().data_dir / "records.jsonl").records
    assert sorted((r["job_id"], r["stage"]) for r in records) == keys


async def test_a_full_output_disk_stops_the_run_and_resume_finishes_it(sim, tmp_path):
    with small_disk(tmp_path / "out", "256k") as out:
        code, stdout, stderr = await finish(*run_args(sim, out, 8))
        (folder,) = out.iterdir()
        assert code == 1, stdout
        assert stderr == resume_message(folder)
        counts = queue_counts()
        assert set(counts) == {"done", "queued"}, counts  # none failed, none left claimed
        assert counts["done"] >= 1
        assert_whole(folder)

        remount(out, "size=16m")
        code, stdout, stderr = await finish("run", "--node", sim.url, "--resume")
        assert code == 0, stderr
        assert queue_counts() == {"done": 8}
        assert_whole(folder, images=8)


async def test_a_full_data_disk_stops_the_run_and_resume_finishes_it(tmp_path, stablenew_home):
    data_dir = AppPaths.from_environment().data_dir
    with small_disk(stablenew_home, "16m"):
        async with SimServer(speed=1) as sim:  # slow enough to fill the disk mid-run
            process = await stablenew_async(*run_args(sim, tmp_path / "out", 6, steps=8))
            while b"image 1 done" not in await asyncio.wait_for(process.stdout.readline(), 60):
                pass
            filler = fill_disk(stablenew_home)
            stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
            assert process.returncode == 1, stdout.decode()
            assert stderr.decode() == resume_message(data_dir)
            (folder,) = (tmp_path / "out").iterdir()
            assert_whole(folder)

            filler.unlink()
            code, _, stderr_text = await finish("run", "--node", sim.url, "--resume")
        assert code == 0, stderr_text
        assert queue_counts() == {"done": 6}
        assert_whole(folder, images=6)


async def test_an_interactive_session_pauses_on_a_full_disk_and_goes_on_when_resumed(tmp_path):
    async with SimServer(speed=0) as sim:
        with small_disk(tmp_path / "out", "256k") as out:
            launcher = launcher_for(sim.url)
            control = RunControl(launcher)
            events = launcher.engine.events.subscribe_queue()
            serving = asyncio.create_task(control.serve())
            try:
                request = RunRequest(
                    prompt="a lighthouse", flags={**FLAGS, "images_per_prompt": 8},
                    output_root=out,
                )  # fmt: skip
                queued = await control.queue_run(request)
                failure = await next_event(events, LocalFailure, within=60)
                (folder,) = out.iterdir()
                assert failure.problem == f"no space left on the disk holding {folder}"
                assert failure.fix == "free space"
                assert control.paused and control.running == queued.run
                # The image its node was making meanwhile cannot be written either: it goes
                # back to the queue too.
                counts = await _none_running(launcher.queue, queued.run.id)
                assert set(counts) == {"done", "queued"}, counts

                remount(out, "size=16m")
                assert not control.toggle_pause()
                finished = await next_event(events, RunFinished, within=60)
                assert finished.counts == {"done": 8}
                assert_whole(folder, images=8)
            finally:
                serving.cancel()
                await asyncio.gather(serving, return_exceptions=True)
                await launcher.aclose()


async def _none_running(queue: JobQueue, run_id: str) -> dict[str, int]:
    """The run's counts once no job of it is in the making (within 60 s)."""
    async with asyncio.timeout(60):
        while "running" in (counts := queue.counts(run_id)):
            await asyncio.sleep(0.05)
    return counts


async def test_a_new_run_on_a_full_data_disk_is_refused_in_one_line(sim, tmp_path, stablenew_home):
    data_dir = AppPaths.from_environment().data_dir
    with small_disk(stablenew_home, "4m"):
        code, _, stderr = await finish(*run_args(sim, tmp_path / "out", 1))
        assert code == 0, stderr
        fill_disk(stablenew_home)
        code, stdout, stderr = await finish(*run_args(sim, tmp_path / "out", 1))
    assert code == 1, stdout
    assert stderr == (
        f"stablenew: no space left on the disk holding {data_dir}; free space and run it again\n"
    )


async def test_a_read_only_output_folder_is_refused_in_one_line(sim, tmp_path):
    with small_disk(tmp_path / "out", "1m") as out:
        remount(out, "ro")
        code, stdout, stderr = await finish(*run_args(sim, out, 1))
    assert code == 1, stdout
    assert stderr == (
        f"stablenew: cannot write to {out}: Read-only file system; fix it and run it again\n"
    )
