"""Templates and packs become one prompt per job, drawn with that job's seed.

The prompt seed is the image seed (so one seed names both the picture and the words) unless
the user unlinks them by giving a prompt seed of its own. Every job carries its template, each
segment's choice, the locks and the mode, so records can later say which choices were liked.

- random: each image draws every unlocked segment from its own seed;
- cyclical: image n of the run takes option n of each segment;
- combinatorial: every combination (up to `max_prompts` per template), each made
  `images_per_prompt` times with consecutive seeds;
- learned: as random, but options the user rated higher (in images of the same template) are
  drawn more often; `beliefs` carries what the ratings say, by template text.

An entry may set its own mode and cap (a classic matrix fans out its prompt combinatorially).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.jobs import PromptSpec, job_seed
from stablenew_tui.prompts import (
    PromptSampler,
    ResolvedPrompt,
    SamplingMode,
    SegmentLocks,
    Template,
    WildcardLibrary,
)
from stablenew_tui.prompts.learned import TemplateBeliefs

DEFAULT_MAX_PROMPTS = 100


@dataclass(frozen=True)
class TemplateEntry:
    text: str
    negative: str = ""
    source: str = "prompt"  # shown in errors: "prompt" or the pack file
    line: int = 1
    model: str | None = None  # the prompt's own checkpoint and VAE, named in its pack
    vae: str | None = None
    mode: SamplingMode | None = None  # None: the run's mode
    max_prompts: int | None = None  # None: the run's combinatorial cap


def expand_entries(
    entries: list[TemplateEntry],
    *,
    images_per_prompt: int,
    base_seed: int,
    wildcards: WildcardLibrary,
    mode: SamplingMode = SamplingMode.RANDOM,
    locks: SegmentLocks | None = None,
    prompt_seed: int | None = None,
    max_prompts: int = DEFAULT_MAX_PROMPTS,
    beliefs: Mapping[str, TemplateBeliefs] | None = None,
) -> list[tuple[int, PromptSpec]]:
    """(prompt index, prompt) for every job of the run, in run order."""
    planned: list[tuple[int, PromptSpec]] = []
    for prompt_index, entry in enumerate(entries):
        template = Template.parse(entry.text, source=entry.source, first_line=entry.line)
        entry_mode = entry.mode or mode
        learned = (beliefs or {}).get(entry.text)
        sampler = PromptSampler(template, wildcards, mode=entry_mode, locks=locks, beliefs=learned)
        first = len(planned)
        if entry_mode is SamplingMode.COMBINATORIAL:
            seeds: Sequence[int] = range(_prompt_seed(first, base_seed, prompt_seed), 2**63)[
                : entry.max_prompts or max_prompts
            ]
            for resolved in sampler.prompts(seeds, first_number=first):
                spec = _spec(resolved, entry)
                planned.extend((prompt_index, spec) for _ in range(images_per_prompt))
            continue
        seeds = [_prompt_seed(first + n, base_seed, prompt_seed) for n in range(images_per_prompt)]
        resolved_prompts = sampler.prompts(seeds, first_number=first)
        planned.extend((prompt_index, _spec(p, entry)) for p in resolved_prompts)
    _refuse_empty_prompts(planned, entries)
    return planned


def _refuse_empty_prompts(
    planned: list[tuple[int, PromptSpec]], entries: list[TemplateEntry]
) -> None:
    """An empty prompt leaves nothing to guide the image (`{0$$a|b}`, `{|}`): refused before
    anything is sent."""
    for job_index, (prompt_index, spec) in enumerate(planned):
        if not spec.prompt.strip():
            entry = entries[prompt_index]
            raise InputError(
                f"template {entry.text!r} draws an empty prompt for image {job_index + 1} "
                f"(prompt seed {spec.prompt_seed}): check its counts and empty options",
                source=entry.source,
                line=entry.line,
            )


def _prompt_seed(job_index: int, base_seed: int, prompt_seed: int | None) -> int:
    if prompt_seed is None:
        return job_seed(base_seed, job_index)  # linked: the image's own seed
    return prompt_seed + job_index


def _spec(resolved: ResolvedPrompt, entry: TemplateEntry) -> PromptSpec:
    return PromptSpec(
        prompt=resolved.text,
        negative=entry.negative,
        template=entry.text,
        choices={str(index): text for index, text in resolved.choice_texts().items()},
        locks=_held(resolved),
        mode=resolved.mode.value,
        prompt_seed=resolved.prompt_seed,
        model=entry.model,
        vae=entry.vae,
    )


def _held(resolved: ResolvedPrompt) -> dict[str, str]:
    """Locked and pinned segments, with the text each held to."""
    choices = resolved.choice_texts()
    held = {index: choices.get(index, "") for index in resolved.locks.pinned}
    held.update(resolved.locks.locked)
    return {str(index): text for index, text in sorted(held.items())}
