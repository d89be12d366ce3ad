"""A run spread over checkpoints, VAEs and hypernetworks, as StableNew's variant planner did.

The combinations are every listed checkpoint × VAE × hypernetwork, in that order (one of each
when a setting lists none). `fanout` makes every image on each combination; `rotate` gives
each prompt the next combination in turn, a prompt being the images that share one drawn text
(a pack prompt's images, one combination in combinatorial mode), as the original rotated per
prompt it ran. A prompt that names its own checkpoint or VAE keeps it.

The variants of one image share its number, so its seed and prompt: they differ only in what
they are made with. Jobs are grouped by checkpoint and VAE, in the order each is first used, so
a node switches weights as rarely as the run allows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from stablenew_tui.pipeline.jobs import PromptSpec
from stablenew_tui.pipeline.settings import PipelineSettings

NO_HYPERNETWORK = "none"  # compared without case, as the original did


@dataclass(frozen=True)
class Variant:
    model: str | None = None
    vae: str | None = None
    hypernetwork: str | None = None
    hypernetwork_strength: float | None = None


@dataclass(frozen=True)
class PlannedImages:
    """The run's jobs in order, as (prompt index, spec), with each one's image number."""

    job_prompts: list[tuple[int, PromptSpec]]
    image_numbers: list[int]


def variants_of(settings: PipelineSettings) -> list[Variant]:
    off: tuple[str | None, float | None] = (None, None)
    hypernetworks = [
        off if choice.name.casefold() == NO_HYPERNETWORK else (choice.name, choice.strength)
        for choice in settings.variants.hypernetworks
    ] or [off]
    return [
        Variant(model, vae, hypernetwork, strength)
        for model in settings.txt2img.models
        for vae in settings.txt2img.vaes
        for hypernetwork, strength in hypernetworks
    ]


def fan_out(job_prompts: list[tuple[int, PromptSpec]], settings: PipelineSettings) -> PlannedImages:
    """`job_prompts` holds one entry per image, in image order; the result one per job."""
    variants = variants_of(settings)
    rotate = settings.variants.mode == "rotate"
    planned: list[tuple[int, int, PromptSpec]] = []  # image number, prompt index, spec
    turn, previous = -1, None
    for number, (prompt_index, spec) in enumerate(job_prompts):
        if (prompt_index, spec.prompt) != previous:
            turn, previous = turn + 1, (prompt_index, spec.prompt)
        chosen = [variants[turn % len(variants)]] if rotate else variants
        # A prompt with its own checkpoint or VAE collapses those axes: each job once.
        for weights in dict.fromkeys(_weights(spec, variant) for variant in chosen):
            planned.append((number, prompt_index, _made_with(spec, weights)))
    groups: dict[tuple[str | None, str | None], int] = {}
    for _, _, spec in planned:
        groups.setdefault((spec.model, spec.vae), len(groups))
    planned.sort(key=lambda item: groups[(item[2].model, item[2].vae)])  # stable: image order
    return PlannedImages(
        [(prompt_index, spec) for _, prompt_index, spec in planned],
        [number for number, _, _ in planned],
    )


def _weights(spec: PromptSpec, variant: Variant) -> Variant:
    """What the job is made with: the prompt's own checkpoint and VAE first."""
    return Variant(
        spec.model or variant.model,
        spec.vae or variant.vae,
        variant.hypernetwork,
        variant.hypernetwork_strength,
    )


def _made_with(spec: PromptSpec, weights: Variant) -> PromptSpec:
    return spec.model_copy(update=asdict(weights))  # the fields share their names
