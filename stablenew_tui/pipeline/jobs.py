"""A run and its jobs: one job per image, its seed fixed when the run is planned.

Fixing seeds at planning time makes every job reproducible on its own: it can run on any
node, be retried, or be resumed after a crash and produce the same image.
"""

from __future__ import annotations

import random
import re
import time
import unicodedata
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from stablenew_tui.pipeline.settings import PipelineSettings

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
MAX_SEED = 2**32 - 1


class SourceImage(BaseModel):
    """An existing image a job starts from instead of txt2img, as it was when the run was
    planned: a job whose file has changed since fails rather than refine another picture."""

    path: str
    sha256: str
    format: str  # "png", "jpeg" or "webp"
    width: int
    height: int


class PromptSpec(BaseModel):
    """What one job makes: its prompt, with where it came from when it was drawn from a
    template, the weights it is made with (None keeps what the node has loaded), the image
    it starts from when the run refines existing images, and the settings its comparison cell
    changes."""

    prompt: str
    negative: str = ""
    global_negative: str = ""  # added to the negative of each stage that applies it
    template: str | None = None
    choices: dict[str, str] | None = None
    locks: dict[str, str] | None = None
    mode: str | None = None
    prompt_seed: int | None = None
    model: str | None = None
    vae: str | None = None
    hypernetwork: str | None = None
    hypernetwork_strength: float | None = None
    image: SourceImage | None = None
    # Its place in a comparison grid: axis name → value as typed (`pipeline.compare_grid`).
    cell: dict[str, str] | None = None


class Job(BaseModel):
    id: str
    run_id: str
    index: int = Field(description="position in the run, 0-based; also names its files")
    prompt_index: int
    seed: int
    spec: PromptSpec
    status: JobStatus = "queued"
    priority: int = 0
    attempts: int = 0
    node: str | None = None
    error: str | None = None
    created: float = Field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    generation: int = Field(0, description="claims so far; only the latest claim holds the job")


class Run(BaseModel):
    id: str
    name: str
    created: float
    folder: str
    settings: PipelineSettings
    source: dict[str, Any] = Field(default_factory=dict)
    paused: bool = False


def choose_base_seed(
    settings: PipelineSettings, rng: random.Random | None = None, drawn: int | None = None
) -> int:
    """The seed of a run's first image: the one asked for; for -1, `drawn` (a seed already
    drawn at random, say for a preview) or else a new random one. The settings keep -1."""
    if settings.txt2img.seed != -1:
        return settings.txt2img.seed
    if drawn is not None:
        return drawn
    return (rng or random.SystemRandom()).randrange(MAX_SEED)


def plan_run(
    job_prompts: list[tuple[int, PromptSpec]],
    settings: PipelineSettings,
    *,
    base_seed: int,
    name: str,
    folder: str,
    source: dict[str, Any] | None = None,
    image_numbers: Sequence[int] | None = None,
) -> tuple[Run, list[Job]]:
    """One job per (prompt index, prompt), in order; seeds are base + the image's number (the
    numbering the WebUI uses for a batch), which is the job's index unless `image_numbers`
    says otherwise: the variants of one image share its number, so they share its seed."""
    numbers = range(len(job_prompts)) if image_numbers is None else image_numbers
    created = time.time()
    run_id = new_run_id(created)
    run = Run(
        id=run_id, name=name, created=created, folder=folder, settings=settings,
        source={**(source or {}), "base_seed": base_seed},
    )  # fmt: skip
    jobs = [
        Job(
            id=job_id(run_id, index),
            run_id=run_id,
            index=index,
            prompt_index=prompt_index,
            seed=job_seed(base_seed, number),
            spec=spec,
            created=created,
        )
        for index, ((prompt_index, spec), number) in enumerate(
            zip(job_prompts, numbers, strict=True)
        )
    ]
    return run, jobs


def new_run_id(created: float) -> str:
    """Sortable by start time, unique across processes."""
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(created)) + "-" + uuid.uuid4().hex[:6]


def job_id(run_id: str, index: int) -> str:
    return f"{run_id}-{index:05d}"


def job_seed(base_seed: int, index: int) -> int:
    return (base_seed + index) % (MAX_SEED + 1)


def slugify(text: str, max_length: int = 40) -> str:
    """A file-name-safe short form of a prompt: ASCII words joined by '-', never empty, never
    a path, never longer than `max_length`."""
    text = re.sub(r"<[^>]*>|__[^_]+__|[{}()\[\]|:]", " ", text)  # LoRA tags, wildcards, syntax
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or (words[0][:max_length] if words else "image")
