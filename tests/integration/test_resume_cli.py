"""`stablenew run --resume [RUN] [--retry-failed]` and `stablenew runs`, as a user runs them:
real processes against a real simulator and the real queue file."""

from __future__ import annotations

import json
from pathlib import Path

from stablenew_tui.paths import AppPaths
from tests.integration.pipeline_helpers import manifest
from tests.integration.test_leases import finish

SMALL = ["--steps", "2", "--size", "64x64"]


async def first_run_with_a_failure(sim, images: int = 3) -> tuple[str, Path]:
    """A run whose first image the server rejects; returns its id and folder."""
    sim.faults.fail_next(1, path="txt2img", status=500, message="CUDA error: device-side assert")
    code, stdout, _ = await finish(
        "run", "--node", sim.url, "--prompt", "a fox", "--images-per-prompt", str(images),
        *SMALL, "--json",
    )  # fmt: skip
    assert code == 1
    started = json.loads(stdout.splitlines()[0])
    return started["run_id"], Path(started["folder"])


async def test_retry_failed_makes_the_failed_images_of_the_last_run_again(sim):
    run_id, folder = await first_run_with_a_failure(sim)
    code, _, stderr = await finish("run", "--node", sim.url, "--resume")
    assert code == 2
    assert stderr == (
        f"stablenew: nothing to resume: run {run_id} has no images left to make; "
        "add --retry-failed to make its failed ones again\n"
    )
    code, stdout, stderr = await finish("run", "--node", sim.url, "--resume", "--retry-failed")
    assert code == 0, stderr
    assert f"run {run_id}: 1 of 3 images to make" in stdout
    assert sorted(line["index"] for line in manifest(folder)) == [0, 1, 2]


async def test_resume_takes_a_run_by_id_or_by_folder(sim):
    first_id, first_folder = await first_run_with_a_failure(sim, images=2)
    second_id, _ = await first_run_with_a_failure(sim, images=2)
    code, stdout, stderr = await finish(
        "run", "--node", sim.url, "--resume", str(first_folder), "--retry-failed"
    )
    assert code == 0, stderr
    assert f"run {first_id}: 1 of 2 images to make" in stdout
    code, stdout, stderr = await finish(
        "run", "--node", sim.url, "--resume", second_id, "--retry-failed"
    )
    assert code == 0, stderr
    assert f"run {second_id}: 1 of 2 images to make" in stdout
    code, _, stderr = await finish("run", "--node", sim.url, "--resume", "no-such-run")
    assert code == 2
    assert stderr.startswith("stablenew: no run 'no-such-run' in ")
    assert stderr.endswith(": give a run id or folder (`stablenew runs` lists them)\n")


async def test_runs_lists_every_run_with_its_images_by_status_and_its_folder(sim):
    code, stdout, _ = await finish("runs")
    assert (code, stdout) == (0, "no runs yet\n")
    first_id, first_folder = await first_run_with_a_failure(sim)
    code, _, _ = await finish(
        "run", "--node", sim.url, "--prompt", "a heron", "--images-per-prompt", "2", *SMALL
    )
    assert code == 0
    code, stdout, stderr = await finish("runs", "--json")
    assert code == 0, stderr
    first, second = json.loads(stdout)
    assert (first["id"], first["folder"], first["name"]) == (first_id, str(first_folder), "a fox")
    assert first["counts"] == {"done": 2, "failed": 1}
    assert second["counts"] == {"done": 2} and second["name"] == "a heron"
    output_root = AppPaths.from_environment().default_output_root
    assert Path(second["folder"]).parent == output_root

    code, table, _ = await finish("runs")
    header, *rows = table.splitlines()
    assert header.split() == [
        "run", "created", "done", "failed", "queued", "running", "cancelled", "folder"
    ]  # fmt: skip
    assert rows[0].startswith(first_id) and rows[0].endswith(str(first_folder))
    assert rows[0].split()[3:8] == ["2", "1", "0", "0", "0"]


async def test_the_resume_flags_go_with_resume(sim):
    for flag in ("--retry-failed", "--wait"):
        code, _, stderr = await finish("run", "--node", sim.url, "--prompt", "x", flag)
        assert code == 2
        assert stderr == f"stablenew: {flag} goes with --resume\n"


async def test_resume_refuses_what_would_plan_another_run():
    code, _, stderr = await finish("run", "--resume", "--prompt", "x", "--steps", "9", "--mode",
                                   "cyclical")  # fmt: skip
    assert code == 2
    assert stderr == (
        "stablenew: --resume makes the run as it was planned: --prompt, --steps, --mode "
        "cannot go with it\n"
    )
