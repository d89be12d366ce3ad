"""`summary.csv`: one row per image of a run, for a spreadsheet, as StableNew wrote it.

Made from the manifest (its current line per job and stage) and the ratings, whenever a run
ends, resumed runs included, and whenever one of its images is rated after that (`rate_image`,
the one way the CLI and the TUI rate). Written whole and atomically: a reader never sees half a
file, and a run made again after a crash is summarized as it now stands.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from stablenew_tui.atomic import write_text_atomic
from stablenew_tui.learning.ratings import RatingStore
from stablenew_tui.pipeline.job_runner import IMAGE_STAGES
from stablenew_tui.pipeline.outputs import read_manifest

SUMMARY_NAME = "summary.csv"
# What the image was asked for and made with, read from its first stage's line.
_ASKED = (
    "prompt", "negative", "global_negative", "seed", "model", "vae", "hypernetwork",
    "hypernetwork_strength", "sampler", "scheduler", "steps", "cfg_scale", "size",
)  # fmt: skip
COLUMNS = ("image", "job_id", *_ASKED, *(f"{stage}_file" for stage in IMAGE_STAGES), "rating")


def rate_image(
    ratings: RatingStore,
    path: str,
    rating: int | None,
    *,
    job_id: str | None = None,
    run_id: str | None = None,
    stage: str | None = None,
) -> str | None:
    """Rate an image (`RatingStore.rate`), then bring its run's summary.csv up to date when the
    run has ended once (a run still making its first images writes it when it ends). Returns
    a warning when the summary could not be written: the rating is kept all the same.
    Blocking (fsync): async callers run it in a thread."""
    ratings.rate(path, rating, job_id=job_id, run_id=run_id, stage=stage)
    folder = Path(path).parent.parent  # images sit in <run folder>/<stage>/
    if not (folder / SUMMARY_NAME).exists():
        return None
    try:
        # Read again: other processes (the TUI, `stablenew rate`) rate images of this run too.
        write_summary(folder, RatingStore(ratings.path))
    except OSError as error:
        return f"{folder / SUMMARY_NAME} was not brought up to date: {error}"
    return None


def write_summary(folder: Path, ratings: RatingStore) -> Path:
    """Blocking (fsync): async callers run it in a thread."""
    by_job: dict[str, dict[str, dict[str, Any]]] = {}
    for line in read_manifest(folder):
        if line.get("stage") in IMAGE_STAGES:
            by_job.setdefault(str(line.get("job_id")), {})[line["stage"]] = line
    jobs = sorted(by_job.values(), key=lambda stages: _first(stages).get("index", 0))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(_row(folder, stages, ratings) for stages in jobs)
    path = folder / SUMMARY_NAME
    write_text_atomic(path, text.getvalue())
    return path


def _row(folder: Path, stages: dict[str, dict[str, Any]], ratings: RatingStore) -> dict[str, Any]:
    first = _first(stages)
    sent = first.get("settings") or {}
    files = {f"{stage}_file": line["path"] for stage, line in stages.items()}
    final = stages[max(stages, key=IMAGE_STAGES.index)]
    size = f"{sent['width']}x{sent['height']}" if "width" in sent and "height" in sent else ""
    # What the first stage sent after the prompt's own negative, if anything.
    appended = first.get("global_negative") if first.get("global_negative_applied") else None
    row = {
        "image": first.get("index", 0) + 1,
        "job_id": first.get("job_id"),
        "prompt": first.get("prompt"),
        "negative": first.get("negative"),
        "global_negative": appended,
        "seed": first.get("seed"),
        "model": first.get("model"),
        "vae": first.get("vae"),
        "hypernetwork": first.get("hypernetwork"),
        "hypernetwork_strength": first.get("hypernetwork_strength"),
        "sampler": sent.get("sampler_name"),
        "scheduler": sent.get("scheduler"),
        "steps": sent.get("steps"),
        "cfg_scale": sent.get("cfg_scale"),
        "size": size,
        **files,
        # Ratings name images by the path the records hold: the run folder's, joined.
        "rating": ratings.get(str(folder / final["path"])),
    }
    return {column: "" if row.get(column) is None else row[column] for column in COLUMNS}


def _first(stages: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return stages[min(stages, key=IMAGE_STAGES.index)]
