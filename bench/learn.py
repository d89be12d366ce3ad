"""Learning from ratings: how fast `stablenew learn report` is on a long history, and how much
the statistics and learned sampling help synthetic users whose true tastes are known.

    .venv/bin/python bench/learn.py [--quick]

(a) Speed: 100,000 learning records (500 runs of 100 jobs, each run one to three stages with
    its own settings and template, ~1.2 KB a record, in the layout the engine writes, appended
    with `RecordWriter`) and 20,000 ratings (in `RatingStore`'s line format) in a temporary
    data folder. Times the report as the command
    builds it (load, join, statistics, text) beside a baseline from the same run: reading and
    parsing every line of both files with the project's readers. Best of three. Target ≤ 1 s.
(b) Synthetic users (bench/learn_users.py): ratings are the true mean plus 1-star Gaussian
    noise, rounded and kept to 1–5. Shrunk vs raw means' error against the true mean ratings;
    then 200 images in learned mode vs uniform (random mode), mean true rating gained (target
    ≥ +0.2 star), with the share of draws of the least-drawn option (target ≥ 5 %).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # tests.learning.synthetic

from learn_users import learned_vs_uniform, shrinkage_accuracy  # noqa: E402

from stablenew_tui.learning.rated_images import load_rated_images  # noqa: E402
from stablenew_tui.learning.ratings import RATINGS_NAME, RatingStore  # noqa: E402
from stablenew_tui.learning.records import RECORDS_NAME, RecordWriter  # noqa: E402
from stablenew_tui.learning.report import build_report  # noqa: E402
from stablenew_tui.prompts import PromptSampler, Template  # noqa: E402
from tests.learning.synthetic import prompt_fields, record  # noqa: E402

RECORDS = 100_000
RATINGS = 20_000
JOBS_PER_RUN = 100
TARGET_SECONDS = 1.0
CHECKPOINTS = [f"checkpoint_{n:02d}.safetensors" for n in range(8)]
SAMPLERS = ["Euler a", "Euler", "DPM++ 2M", "DPM++ SDE", "DDIM", "UniPC"]
SCHEDULERS = ["Automatic", "Karras", "Exponential", "SGM Uniform"]
VAES = [None, "sdxl_vae.safetensors", "vae-ft-mse-840000.safetensors"]
SIZES = [(512, 512), (512, 768), (768, 512), (1024, 1024)]
TEMPLATES = [
    f"{{portrait|photo|painting|sketch}} of a {{young|old}} {subject} with {{red|blonde|black}} "
    f"hair, {{soft|hard|rim}} light, {{indoors|outdoors}}, (masterpiece:1.2), series {n}"
    for n in range(3)
    for subject in ("{woman|man}", "{knight|wizard|monk}", "robot", "{cat|dog|fox|owl}")
]


def write_history(data_dir: Path, rng: random.Random) -> None:
    """RECORDS records of RECORDS / 2 jobs in runs of JOBS_PER_RUN (one to three stages, one
    template and one set of settings per run, as the engine makes them); RATINGS of their
    images rated, nine in ten of them a job's last image (what the Results tab shows)."""
    samplers = [PromptSampler(Template.parse(text)) for text in TEMPLATES]
    writer = RecordWriter(data_dir / RECORDS_NAME)
    batch: list[dict] = []
    last_images, earlier_images = [], []  # (path, job, stage)
    made = 1_790_000_000.0
    for job_number in range(RECORDS // 2):
        if job_number % JOBS_PER_RUN == 0:
            run = f"20261101-{job_number // JOBS_PER_RUN:06d}-bench"
            sampler = rng.choice(samplers)
            stages = ("txt2img", "img2img", "upscale")[: 1 + rng.randrange(3)]
            settings = {stage: _settings(stage, rng) for stage in stages}
        job = f"{run}-{job_number % JOBS_PER_RUN:05d}"
        prompt = prompt_fields(next(iter(sampler.prompts([rng.randrange(2**32)]))))
        seed = rng.randrange(2**32)
        for stage in stages:
            made += 1.7
            path = f"/home/user/stablenew/output/{run}/{stage}/{job_number:05d}_image.png"
            inputs = {**prompt, **settings[stage], "seed": seed}
            batch.append(record(job, stage, inputs, path, made))
            (last_images if stage == stages[-1] else earlier_images).append((path, job, stage))
        if len(batch) >= 5000:
            writer.append([{k: v for k, v in r.items() if k != "record_version"} for r in batch])
            batch.clear()
    writer.append([{k: v for k, v in r.items() if k != "record_version"} for r in batch])
    rated = rng.sample(last_images, RATINGS * 9 // 10) + rng.sample(earlier_images, RATINGS // 10)
    lines = []
    for path, job, stage in rated:
        line = {"time": made, "path": path, "rating": rng.randint(1, 5), "job_id": job,
                "run_id": job.rsplit("-", 1)[0], "stage": stage}  # fmt: skip
        lines.append(json.dumps(line, ensure_ascii=False))  # as RatingStore.rate writes it
    (data_dir / RATINGS_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _settings(stage: str, rng: random.Random) -> dict:
    """One stage's settings as its records hold them (pipeline/job_runner.py)."""
    if stage == "upscale":
        return {"upscaler": rng.choice(("R-ESRGAN 4x+", "4x-UltraSharp")), "upscale_factor": 2.0}
    width, height = rng.choice(SIZES)
    settings = {
        "model": rng.choice(CHECKPOINTS), "vae": rng.choice(VAES),
        "sampler": rng.choice(SAMPLERS), "scheduler": rng.choice(SCHEDULERS),
        "steps": rng.choice((15, 20, 25, 30, 40)), "cfg_scale": rng.choice((4.5, 6.0, 7.0, 9.0)),
        "width": width, "height": height,
    }  # fmt: skip
    if stage == "txt2img" and rng.random() < 0.3:
        settings.update(hires=True, denoising_strength=rng.choice((0.5, 0.7)))
    if stage == "img2img":
        settings["denoising_strength"] = rng.choice((0.25, 0.35, 0.45, 0.6))
    return {key: value for key, value in settings.items() if value is not None}


# Each measurement runs in a fresh interpreter, as `stablenew learn report` does: nothing is
# cached from an earlier run. It prints the wall and CPU seconds of the work after imports.
_MEASURE = """
import sys, time
from pathlib import Path
from stablenew_tui.commands.learn import report_lines
from stablenew_tui.commands.pick_lines import pick_lines
from stablenew_tui.learning.pick_report import load_pick_rankings
from stablenew_tui.learning.rated_images import load_rated_images
from stablenew_tui.learning.ratings import RatingStore
from stablenew_tui.learning.records import read_records
from stablenew_tui.learning.report import build_report
data_dir, what = Path(sys.argv[1]), sys.argv[2]
wall, cpu = time.perf_counter(), time.process_time()
if what == "baseline":
    read_records(data_dir / "records.jsonl")
    RatingStore(data_dir / "ratings.jsonl")
elif what == "load":
    load_rated_images(data_dir)
else:
    rated = load_rated_images(data_dir)
    lines = report_lines(build_report(rated.images, unmatched=rated.unmatched))
    lines += pick_lines(load_pick_rankings(data_dir))  # no picks here: one look for the file
print(time.perf_counter() - wall, time.process_time() - cpu)
"""


def best_of(runs: int, data_dir: Path, what: str) -> tuple[float, float]:
    """Wall and CPU seconds of the fastest of `runs` fresh runs."""
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(data_dir), what],
            capture_output=True, text=True, check=True, cwd=REPO_ROOT,
        ).stdout  # fmt: skip
        wall, cpu = (float(number) for number in out.split())
        times.append((wall, cpu))
    return min(times)


def bench_speed() -> None:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        started = time.perf_counter()
        write_history(data_dir, random.Random(1))
        size = (data_dir / RECORDS_NAME).stat().st_size
        written = time.perf_counter() - started
        print(f"(a) learn report over {RECORDS:,} records ({size / 1e6:.0f} MB) and "
              f"{RATINGS:,} ratings (written in {written:.1f} s)")  # fmt: skip
        assert len(RatingStore(data_dir / RATINGS_NAME).rated()) == RATINGS
        parse, parse_cpu = best_of(3, data_dir, "baseline")
        whole, whole_cpu = best_of(3, data_dir, "report")
        load, _ = best_of(3, data_dir, "load")
        rated = load_rated_images(data_dir)
        report = build_report(rated.images, unmatched=rated.unmatched)
        verdict = "PASS" if whole <= TARGET_SECONDS else "FAIL"
        print(f"  baseline: read and parse every line of both files  {parse:6.3f} s "
              f"(CPU {parse_cpu:.3f} s)")  # fmt: skip
        print(f"  learn report: load, join, statistics, text         {whole:6.3f} s "
              f"(CPU {whole_cpu:.3f} s)   target ≤ {TARGET_SECONDS:.0f} s: {verdict}")  # fmt: skip
        print(f"    of which loading the rated images and their stages {load:.3f} s")
        print(f"  report ÷ baseline {whole / parse:.2f}; {report.rated_images} rated images, "
              f"{len(report.factors)} factors")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer synthetic users")
    args = parser.parse_args()
    bench_speed()
    print()
    shrinkage_accuracy(users=40 if args.quick else 200)
    print()
    learned_vs_uniform(users=10 if args.quick else 40)


if __name__ == "__main__":
    main()
