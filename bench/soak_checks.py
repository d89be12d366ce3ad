"""What the soak benchmark checks after each trial, from the files alone: the run's folder,
its manifest, the learning records and the queue.

- lost: an image of a job and stage that is not there (no current manifest line, or no file);
- duplicated: an image file no current manifest line names (a second copy), or two lines
  naming one file;
- torn: a manifest or records line that is not a whole JSON object, or a file not ending on a
  whole line;
- sha256: an image whose bytes are not those its line describes;
- partial: a temporary file left behind (a write that never finished);
- stuck: a job that is not done once the trial's resumes are over;
- records: a job and stage whose learning record and manifest line do not match one to one.
A line superseded by a later one for the same job and stage (a job made again after a crash)
is counted, as "redone", but is no fault: readers keep the last line.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path

from stablenew_tui.jsonl import job_stage_key, last_per_key, parse_line
from stablenew_tui.learning.records import RECORDS_NAME
from stablenew_tui.pipeline.launch import QUEUE_NAME
from stablenew_tui.pipeline.outputs import MANIFEST_NAME
from stablenew_tui.pipeline.queue import JobQueue


@dataclass
class Findings:
    lost: int = 0
    duplicated: int = 0
    torn: int = 0
    sha256: int = 0
    partial: int = 0
    stuck: int = 0
    records: int = 0
    redone: int = 0  # not a fault

    @property
    def faults(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self) if f.name != "redone")


def job_statuses(data_dir: Path) -> dict[str, str]:
    """Every job of the (one) run in this data folder, by id, with its status."""
    queue = JobQueue(data_dir / QUEUE_NAME)
    try:
        return {job.id: job.status for run in queue.runs() for job in queue.jobs(run.id)}
    finally:
        queue.close()


def check_run(data_dir: Path, folder: Path, stages: tuple[str, ...]) -> Findings:
    found = Findings()
    statuses = job_statuses(data_dir)
    found.stuck = sum(status != "done" for status in statuses.values())
    expected = {(job_id, stage) for job_id in statuses for stage in stages}

    lines, found.torn = _whole_lines(folder / MANIFEST_NAME)
    current = last_per_key(lines, job_stage_key)
    found.redone = len(lines) - len(current)
    by_key = {job_stage_key(line): line for line in current}
    named = Counter(line["path"] for line in current)
    found.duplicated += sum(count - 1 for count in named.values())
    for key in expected:
        line = by_key.get(key)
        image = folder / line["path"] if line else None
        if image is None or not image.is_file():
            found.lost += 1
        elif hashlib.sha256(image.read_bytes()).hexdigest() != line["sha256"]:
            found.sha256 += 1
    for stage in stages:
        for image in (folder / stage).iterdir() if (folder / stage).is_dir() else ():
            if not _temporary(image) and f"{stage}/{image.name}" not in named:
                found.duplicated += 1

    records, torn = _whole_lines(data_dir / RECORDS_NAME)
    found.torn += torn
    recorded = Counter(job_stage_key(record) for record in last_per_key(records, job_stage_key))
    found.records = len(set(recorded) ^ set(by_key)) + sum(n - 1 for n in recorded.values())

    found.partial = sum(_temporary(path) for root in (folder, data_dir) for path in root.rglob("*"))
    return found


def _whole_lines(path: Path) -> tuple[list[dict], int]:
    """The file's JSON object lines, and how many lines (or a missing final newline) are
    torn."""
    if not path.exists():
        return [], 0
    data = path.read_bytes()
    torn = int(bool(data) and not data.endswith(b"\n"))
    objects = []
    for raw in data.splitlines():
        item = parse_line(raw) if raw.strip() else None
        if item is None:
            torn += 1
        else:
            objects.append(item)
    return objects, torn


def _temporary(path: Path) -> bool:
    """What `write_bytes_atomic` leaves while a write is under way: `.<name>.<random>.part`."""
    return path.is_file() and path.name.startswith(".") and path.name.endswith(".part")
