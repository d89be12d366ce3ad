"""Rated images joined to what made them.

A rating belongs to the image rated: an upscaled image's rating tells about the upscaler, and
also about the img2img and txt2img passes before it, which the records of the same job hold
(records of one job share its `job_id`; its stages run in `IMAGE_STAGES` order). A rating of
an earlier stage's image says nothing about the later stages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stablenew_tui.learning.factors import (
    IMAGE_STAGES,
    Factor,
    Value,
    segment_factors,
    stage_factors,
)
from stablenew_tui.learning.ratings import RATINGS_NAME, Rating, RatingStore
from stablenew_tui.learning.record_scan import of_jobs, scan_records
from stablenew_tui.learning.records import RECORDS_NAME


@dataclass
class RatedImage:
    path: str
    rating: int
    made: float  # when the image was finished, from its record
    template: str | None  # the template its prompt was drawn from
    mode: str | None  # how the template was sampled
    factors: dict[Factor, Value]


@dataclass
class RatedImages:
    images: list[RatedImage] = field(default_factory=list)
    unmatched: int = 0  # ratings of images no record names (deleted history, another machine)
    problems: list[str] = field(default_factory=list)  # unreadable lines, per file


def load_rated_images(
    data_dir: Path, *, since: float | None = None, template: str | None = None
) -> RatedImages:
    """Every rated image with its factors, from the data folder's ratings and records; only
    images made at or after `since` (a Unix time) and drawn from `template`, when given."""
    store = RatingStore(data_dir / RATINGS_NAME)
    ratings = store.rated()
    problems = []
    if store.skipped_lines:
        lines = ", ".join(str(number) for number in store.skipped_lines)
        problems.append(f"{store.path}: skipped unreadable rating line(s) {lines}")
    records_path = data_dir / RECORDS_NAME
    jobs = {rating.job_id for rating in ratings if rating.job_id}
    unlinked = [rating.path for rating in ratings if not rating.job_id]
    read = scan_records(records_path, of_jobs(jobs, unlinked))
    if problem := read.describe_problems(records_path):
        problems.append(problem)
    result = join_ratings(ratings, read.records, since=since, template=template)
    result.problems = problems
    return result


def join_ratings(
    ratings: list[Rating],
    records: list[dict],
    *,
    since: float | None = None,
    template: str | None = None,
) -> RatedImages:
    """Each rating with the records of its image and of the stages before it."""
    result = RatedImages()
    stages_of_job, record_of_path = _index(records)
    for rating in ratings:
        if rating.rating is None:
            continue
        record = record_of_path.get(rating.path)
        if record is None:
            result.unmatched += 1
            continue
        image = _rated_image(rating.path, rating.rating, record, stages_of_job[record["job_id"]])
        wanted_template = template is None or image.template == template
        if wanted_template and (since is None or image.made >= since):
            result.images.append(image)
    return result


def _index(records: list[dict]) -> tuple[dict[str, dict[str, dict]], dict[str, dict]]:
    """Records by job and stage, and by the image path they name; a later record of the same
    job and stage (a resumed job) wins."""
    stages_of_job: dict[str, dict[str, dict]] = {}
    record_of_path: dict[str, dict] = {}
    for record in records:
        job, stage = record.get("job_id"), record.get("stage")
        inputs, outputs = record.get("inputs"), record.get("outputs")
        if not isinstance(job, str) or stage not in IMAGE_STAGES or not isinstance(inputs, dict):
            continue
        stages_of_job.setdefault(job, {})[stage] = record
        paths = outputs.get("paths") if isinstance(outputs, dict) else None
        for path in paths if isinstance(paths, list) else ():
            if isinstance(path, str):
                record_of_path[path] = record
    return stages_of_job, record_of_path


def _rated_image(path: str, rating: int, record: dict, stages: dict[str, dict]) -> RatedImage:
    inputs = record["inputs"]
    factors: dict[Factor, Value] = {}
    for stage in IMAGE_STAGES[: IMAGE_STAGES.index(record["stage"]) + 1]:
        if stage in stages:
            factors.update(stage_factors(stage, stages[stage]["inputs"]))
    factors.update(segment_factors(inputs))
    made = record.get("time")
    template = inputs.get("template")
    return RatedImage(
        path=path,
        rating=rating,
        made=float(made) if isinstance(made, int | float) else 0.0,
        template=template if isinstance(template, str) else None,
        mode=inputs.get("mode") if isinstance(inputs.get("mode"), str) else None,
        factors=factors,
    )
