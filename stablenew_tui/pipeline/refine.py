"""Runs whose jobs start from existing images: chosen results sent on through img2img and/or
upscale, with the stage settings of now.

Each job keeps its image's prompt, negative prompt and seed (from the run's manifest line, or
the infotext the file carries), and the image itself as it was when planned (`SourceImage`:
path, size and sha256). Such a job is as durable as any other: it waits in the queue, runs
under a lease, and its manifest lines and records name the image it started from.
"""

from __future__ import annotations

import base64
import hashlib
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.errors import InputError, StableNewError
from stablenew_tui.pipeline.jobs import (
    MAX_SEED,
    Job,
    PromptSpec,
    Run,
    SourceImage,
    job_id,
    new_run_id,
)
from stablenew_tui.pipeline.provenance import Provenance, image_provenance
from stablenew_tui.pipeline.settings import PipelineSettings

REFINE_STAGES = ("img2img", "upscale")


class SourceImageError(StableNewError):
    """A job's starting image is gone or no longer the one the run was planned with."""


@dataclass
class RefineRequest:
    images: list[str]
    stages: list[str]
    flags: dict[str, Any] = field(default_factory=dict)  # the strongest settings layer
    prompt: str | None = None  # replaces each image's own prompt
    negative: str | None = None
    seed: int | None = None  # replaces each image's own seed
    output_root: Path | None = None


def refine_stages(stages: list[str]) -> list[str]:
    """The stages a refine run makes, checked: img2img and/or upscale, nothing else."""
    wrong = [stage for stage in stages if stage not in REFINE_STAGES]
    if wrong:
        raise InputError(
            f"--stages: refining starts from an existing image, so {wrong[0]!r} cannot be one "
            f"of its stages; choose from {', '.join(REFINE_STAGES)}"
        )
    if not stages:
        raise InputError(f"--stages: name at least one of {', '.join(REFINE_STAGES)}")
    return [stage for stage in REFINE_STAGES if stage in stages]


def refine_jobs(
    request: RefineRequest, rng: random.Random | None = None
) -> list[tuple[int, PromptSpec]]:
    """(seed, prompt) per image, in the order given, each prompt starting from its image.
    Blocking: reads the images and their manifests. Raises InputError naming the first image
    that is missing, not an image, or carries no prompt when none is given."""
    if not request.images:
        raise InputError("name at least one image to refine")
    rng = rng or random.SystemRandom()
    planned = []
    for name in request.images:
        # Resolved: the job may run later, from another folder.
        origin = image_provenance(Path(name).expanduser().resolve())
        planned.append((_seed(request, origin, rng), _spec(request, origin, name)))
    return planned


def _spec(request: RefineRequest, origin: Provenance, name: str) -> PromptSpec:
    prompt = request.prompt if request.prompt is not None else origin.prompt
    if prompt is None:
        raise InputError(
            f"{name}: neither a run's manifest nor an infotext in the file names its prompt; "
            "give one with --prompt"
        )
    line = origin.line if request.prompt is None else None  # its template's choices still hold
    return PromptSpec(
        prompt=prompt,
        negative=request.negative if request.negative is not None else origin.negative,
        template=line.get("template") if line else None,
        choices=line.get("choices") if line else None,
        locks=line.get("locks") if line else None,
        mode=line.get("mode") if line else None,
        prompt_seed=line.get("prompt_seed") if line else None,
        image=origin.image,
    )


def _seed(request: RefineRequest, origin: Provenance, rng: random.Random) -> int:
    """The seed asked for; else the image's own; else (-1, or none known) a new one."""
    if request.seed is not None and request.seed != -1:
        return request.seed
    if request.seed is None and origin.seed is not None:
        return origin.seed % (MAX_SEED + 1)
    return rng.randrange(MAX_SEED)


def plan_refine(
    specs: list[tuple[int, PromptSpec]], settings: PipelineSettings, *, name: str, folder: str,
    source: dict[str, Any],
) -> tuple[Run, list[Job]]:  # fmt: skip
    """A run of one job per (seed, prompt with its image), in order."""
    created = time.time()
    run = Run(
        id=new_run_id(created), name=name, created=created, folder=folder, settings=settings,
        source=source,
    )  # fmt: skip
    jobs = [
        Job(
            id=job_id(run.id, index),
            run_id=run.id,
            index=index,
            prompt_index=index,
            seed=seed,
            spec=spec,
            created=created,
        )
        for index, (seed, spec) in enumerate(specs)
    ]
    return run, jobs


def load_source(image: SourceImage) -> str:
    """The image a job starts from, base64 as a WebUI takes it, checked to be the very file
    the run was planned with. Blocking."""
    try:
        data = Path(image.path).read_bytes()
    except OSError as error:
        raise SourceImageError(
            f"the image it starts from, {image.path}, cannot be read ({error.strerror})"
        ) from None
    if hashlib.sha256(data).hexdigest() != image.sha256:
        raise SourceImageError(
            f"the image it starts from, {image.path}, has changed since the run was planned"
        )
    return base64.b64encode(data).decode("ascii")
