"""What the cluster benchmark measures a run against: the lower bound of its makespan, the best
split of whole images for reference, and whether every job has exactly one image.

Lower bound. W is the run's work in seconds at speed 1 (images × seconds per image), L one
checkpoint load at speed 1, and s_i(t) node i's real speed t seconds after the run started,
0 once the node is lost. The bound is the smallest T with

    Σ_i ∫_L^T s_i(t) dt ≥ W

that is, every node works flat out from the moment one load at speed 1 could have ended,
with no load of its own, no idle time and images split to the fraction. With speeds that
never change this is W ÷ Σ s_i + L.

Images. From the files alone: the run folder's image files, its manifest lines (every line
ever written, not only the last per job) and, for our engine, its learning records:
- lost: a job without an image: no manifest line of its names a file that is there (or,
  where records are kept, it has no record);
- duplicated: an image beyond one per job: a second manifest line for a job, a line for a job
  the run does not have, an image file no line names, a second record for a job.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.jsonl import read_jsonl
from stablenew_tui.pipeline.outputs import MANIFEST_NAME

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp"})

# A node's speed over time: (seconds after the start, speed from then on), the first at 0.
SpeedProfile = Sequence[tuple[float, float]]


def speed_at(profile: SpeedProfile, moment: float) -> float:
    return [speed for since, speed in profile if since <= moment][-1]


def lower_bound(work: float, load: float, profiles: Iterable[SpeedProfile]) -> float:
    """The smallest T with Σ_i ∫_load^T s_i(t) dt ≥ work (see the module's text); infinite
    when the nodes left can never make it."""
    profiles = list(profiles)
    changes = sorted({since for profile in profiles for since, _ in profile if since > load})
    start, done = load, 0.0
    for end in [*changes, math.inf]:
        rate = sum(speed_at(profile, start) for profile in profiles)
        if rate > 0 and done + rate * (end - start) >= work:
            return start + (work - done) / rate
        done += rate * (end - start) if end < math.inf else 0.0
        start = end
    return math.inf


def best_split(images: int, loads: dict[str, float], seconds_per_image: dict[str, float]) -> float:
    """The shortest makespan of any split of whole images over nodes that each load the
    checkpoint first (`loads`: seconds on that node) and then take `seconds_per_image` an
    image: the `images`-th earliest moment at which any node can have an image done."""
    finished = sorted(
        loads[node] + made * seconds
        for node, seconds in seconds_per_image.items()
        for made in range(1, images + 1)
    )
    return finished[images - 1]


@dataclass
class ImageCount:
    lost: int = 0
    duplicated: int = 0
    per_node: Counter[str] = field(default_factory=Counter)


def count_images(
    folder: Path, job_ids: Iterable[str], records: list[dict[str, Any]] | None = None
) -> ImageCount:
    """Lost and duplicated images of a run (see the module's text); `records` are the learning
    records to hold against the jobs, None where the client keeps none."""
    jobs = set(job_ids)
    lines = read_jsonl(folder / MANIFEST_NAME).objects
    present = {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
    }
    lines_per_job = Counter(line.get("job_id") for line in lines)
    named = {line.get("path") for line in lines}
    imaged = {line.get("job_id") for line in lines if line.get("path") in present}
    count = ImageCount()
    count.per_node = Counter(str(line.get("node")) for line in lines if line.get("job_id") in jobs)
    count.duplicated = (
        sum(n - 1 for job, n in lines_per_job.items() if job in jobs)
        + sum(n for job, n in lines_per_job.items() if job not in jobs)
        + len(present - named)
    )
    if records is None:
        count.lost = len(jobs - imaged)
        return count
    recorded = Counter(record.get("job_id") for record in records)
    count.lost = len(jobs - (imaged & set(recorded)))
    count.duplicated += sum(n - 1 for job, n in recorded.items() if job in jobs)
    return count
