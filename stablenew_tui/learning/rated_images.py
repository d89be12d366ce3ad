"""Rated images joined to what made them.

A rating belongs to the image rated: an upscaled image's rating tells about the upscaler, and
also about the img2img and txt2img passes before it, which the records of the same job hold
(records of one job share its `job_id`; its stages run in `IMAGE_STAGES` order). A rating of
an earlier stage's image says nothing about the later stages.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from stablenew_tui.learning.record_scan import collector_paused, of_jobs, scan_records
from stablenew_tui.learning.records import RECORDS_NAME


@dataclass(slots=True)
class RatedImage:
    path: str
    rating: int
    made: float  # when the image was finished, from its record
    template: str | None  # the template its prompt was drawn from
    mode: str | None  # how the template was sampled
    # Every stage's settings up to the rated one. Images made alike share one mapping (a run's
    # images all do), which lets the report count them together; never change it.
    settings: Mapping[Factor, Value]
    choices: dict[Factor, Value]  # the option each drawn segment of the template took

    @property
    def factors(self) -> dict[Factor, Value]:
        return {**self.settings, **self.choices}


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
    with collector_paused():
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
        del read  # the parsed records go before the collector, back on, walks what is left
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
    alike = _SharedSettings()
    for rating in ratings:
        if rating.rating is None:
            continue
        record = record_of_path.get(rating.path)
        if record is None:
            result.unmatched += 1
            continue
        stages = stages_of_job[record["job_id"]]
        settings = alike.merged(
            [stage_factors(s, stages[s]["inputs"]) for s in _UP_TO[record["stage"]] if s in stages]
        )
        image = _rated_image(rating.path, rating.rating, record, settings)
        wanted_template = template is None or image.template == template
        if wanted_template and (since is None or image.made >= since):
            result.images.append(image)
    return result


# Each stage and the stages before it, whose settings a rating of its image is about.
_UP_TO = {stage: IMAGE_STAGES[: n + 1] for n, stage in enumerate(IMAGE_STAGES)}


class _SharedSettings:
    """One merged mapping for each distinct chain of stage settings (`stage_factors` already
    shares equal settings), so images made alike share their settings."""

    def __init__(self) -> None:
        self._merged: dict[tuple[int, ...], tuple[list, dict]] = {}

    def merged(self, parts: list[dict[Factor, Value]]) -> dict[Factor, Value]:
        key = tuple(id(part) for part in parts)
        found = self._merged.get(key)
        if found is None:  # the parts are kept with it, so their ids stay theirs
            found = self._merged[key] = (parts, {k: v for part in parts for k, v in part.items()})
        return found[1]


def _index(records: list[dict]) -> tuple[dict[str, dict[str, dict]], dict[str, dict]]:
    """Records by job and stage, and by the image path they name; a later record of the same
    job and stage (a resumed job) wins."""
    stages_of_job: dict[str, dict[str, dict]] = {}
    record_of_path: dict[str, dict] = {}
    for record in records:
        job, stage = record.get("job_id"), record.get("stage")
        if stage not in _UP_TO or not isinstance(job, str):
            continue
        outputs = record.get("outputs")
        if not isinstance(record.get("inputs"), dict) or not isinstance(outputs, dict):
            continue
        stages = stages_of_job.get(job)
        if stages is None:
            stages = stages_of_job[job] = {}
        stages[stage] = record
        paths = outputs.get("paths")
        for path in paths if isinstance(paths, list) else ():
            if isinstance(path, str):
                record_of_path[path] = record
    return stages_of_job, record_of_path


def _rated_image(
    path: str, rating: int, record: dict, settings: Mapping[Factor, Value]
) -> RatedImage:
    inputs = record["inputs"]
    made = record.get("time")
    template, mode = inputs.get("template"), inputs.get("mode")
    return RatedImage(
        path=path,
        rating=rating,
        made=float(made) if isinstance(made, int | float) else 0.0,
        template=template if isinstance(template, str) else None,
        mode=mode if isinstance(mode, str) else None,
        settings=settings,
        choices=segment_factors(inputs),
    )
