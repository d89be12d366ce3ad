"""The cluster benchmark (bench/cluster.py) at tiny scale: its table, its lower bound, its
shares, and the counting of lost and duplicated images, which must see an image deleted or
made twice."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stablenew_tui.jsonl import read_jsonl
from stablenew_tui.learning.records import RECORDS_NAME
from stablenew_tui.pipeline.jobs import PromptSpec, plan_run
from stablenew_tui.pipeline.launch import QUEUE_NAME
from stablenew_tui.pipeline.outputs import MANIFEST_NAME
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.pipeline.settings import PipelineSettings
from tests.conftest import REPO_ROOT

BENCH = REPO_ROOT / "bench"
IMAGES = 12  # --quick


@pytest.fixture(autouse=True)
def bench_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    out = tmp_path_factory.mktemp("cluster")
    result = subprocess.run(
        [sys.executable, "bench/cluster.py", "--quick", "--cases", "a", "--keep", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=110,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    yield result.stdout, out


def table_rows(stdout: str) -> list[dict[str, str]]:
    from cluster_report import COLUMNS

    lines = stdout.splitlines()
    start = next(number for number, line in enumerate(lines) if line.startswith("case "))
    rows = []
    for line in lines[start : lines.index("", start)]:
        cells, offset = [], 0
        for _, width in COLUMNS:
            cells.append(line[offset : offset + width].strip())
            offset += width + 1
        rows.append(cells)
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


def test_the_table_has_every_column_and_a_row_per_policy(quick_run: tuple[str, Path]) -> None:
    stdout, _ = quick_run
    rows = table_rows(stdout)
    assert list(rows[0]) == [
        "case", "policy", "makespan", "bound", "÷bound", "÷nominal", "÷rr", "÷static", "loads",
        "f/m/s", "lost", "dup", "exit",
    ]  # fmt: skip
    assert [row["policy"] for row in rows] == ["engine", "round-robin", "static"]
    assert rows[0]["case"] == "(a) one model"
    for row in rows:
        assert sum(int(n) for n in row["f/m/s"].split("/")) == IMAGES, row
        assert (row["lost"], row["dup"]) == ("0", "0"), row
        # Every node starts on an SDXL checkpoint and makes the case's SD 1.5 one: one load
        # each, read from the nodes' own counts.
        assert row["loads"] == "3", row
        # No run beats the bound at the set speeds; the nodes' real speeds are slower, so the
        # bound at those is the higher one.
        assert float(row["÷nominal"]) >= 1.0, row
        assert float(row["÷bound"]) <= float(row["÷nominal"]), row
    assert rows[1]["f/m/s"] == "4/4/4"  # round-robin
    assert rows[0]["÷rr"] != "-" and rows[0]["÷static"] != "-"
    assert "(a) PASS" in stdout or "(a) MISS: " in stdout


def engine_jobs(out: Path) -> list[str]:
    queue = JobQueue(out / "engine-home" / "data" / QUEUE_NAME)
    try:
        return [job.id for run in queue.runs() for job in queue.jobs(run.id)]
    finally:
        queue.close()


def records_of(out: Path) -> list[dict[str, Any]]:
    return read_jsonl(out / "engine-home" / "data" / RECORDS_NAME).objects


def test_counting_sees_an_image_deleted_or_made_twice(quick_run: tuple[str, Path]) -> None:
    from cluster_checks import count_images

    _, out = quick_run
    folder, jobs = out / "a-engine", engine_jobs(out)
    assert len(jobs) == IMAGES
    counted = count_images(folder, jobs, records_of(out))
    assert (counted.lost, counted.duplicated) == (0, 0)
    assert sum(counted.per_node.values()) == IMAGES

    first, second, *_ = sorted((folder / "txt2img").glob("*.png"))
    shutil.copy(first, first.with_name("copy-" + first.name))
    assert count_images(folder, jobs, records_of(out)).duplicated == 1
    second.unlink()
    counted = count_images(folder, jobs, records_of(out))
    assert (counted.lost, counted.duplicated) == (1, 1)

    manifest = folder / MANIFEST_NAME
    lines = manifest.read_text().splitlines()
    manifest.write_text("\n".join([*lines, lines[-1]]) + "\n")  # a job written twice
    assert count_images(folder, jobs, records_of(out)).duplicated == 2
    records = records_of(out)
    assert count_images(folder, jobs, [*records, records[0]]).duplicated == 3
    imaged = next(json.loads(line)["job_id"] for line in lines if first.name in line)
    unrecorded = [record for record in records if record["job_id"] != imaged]
    assert count_images(folder, jobs, unrecorded).lost == 2  # a job without its record


def test_counting_a_baseline_folder_without_records(quick_run: tuple[str, Path]) -> None:
    from cluster_checks import count_images

    _, out = quick_run
    folder = out / "a-round-robin"
    lines = read_jsonl(folder / MANIFEST_NAME).objects
    jobs = [line["job_id"] for line in lines]
    assert count_images(folder, jobs, None).lost == 0
    assert count_images(folder, [*jobs, "a job never made"], None).lost == 1
    assert count_images(folder, jobs[1:], None).duplicated == 1  # a line for no job of the run


def test_lower_bound_with_steady_changed_and_lost_nodes() -> None:
    from cluster_checks import best_split, lower_bound

    steady = [[(0.0, 1.0)], [(0.0, 0.5)], [(0.0, 0.25)]]
    assert lower_bound(35.0, 2.0, steady) == pytest.approx(35.0 / 1.75 + 2.0)
    # The fast node stops at 12 s: 1.75 × 10 s done by then, 17.5 left at 0.75.
    lost = [[(0.0, 1.0), (12.0, 0.0)], *steady[1:]]
    assert lower_bound(35.0, 2.0, lost) == pytest.approx(12.0 + 17.5 / 0.75)
    halved = [[(0.0, 1.0), (12.0, 0.5)], *steady[1:]]
    assert lower_bound(35.0, 2.0, halved) == pytest.approx(12.0 + 17.5 / 1.25)
    assert lower_bound(35.0, 2.0, [[(0.0, 1.0), (3.0, 0.0)]]) == math.inf
    # Whole images: 2 s and 4 s an image after loads of 1 s and 2 s: done at 3, 5, 6, 7, ...
    assert best_split(4, {"a": 1.0, "b": 2.0}, {"a": 2.0, "b": 4.0}) == 7.0


def test_shares_of_the_baselines() -> None:
    from cluster_baselines import round_robin, static_split, txt2img_body

    settings = PipelineSettings()
    specs = [(0, PromptSpec(prompt="p", model=f"m{i % 2}")) for i in range(10)]
    _, jobs = plan_run(specs, settings, base_seed=5, name="n", folder="-")
    shares = static_split(jobs, {"fast": 1.0, "mid": 0.5, "slow": 0.25})
    assert [len(share) for share in shares.values()] == [6, 3, 1]  # 5.71, 2.86, 1.43
    assert [job.index for share in shares.values() for job in share] == list(range(10))
    assert [job.index for job in round_robin(jobs, ["x", "y", "z"])["y"]] == [1, 4, 7]
    body = txt2img_body(jobs[3], settings)
    assert body["seed"] == 8 and body["override_settings"] == {"sd_model_checkpoint": "m1"}
    assert json.dumps(body)  # what is posted
