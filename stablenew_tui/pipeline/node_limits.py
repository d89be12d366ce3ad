"""What each node may make, from its `[[nodes]]` limits: `models` patterns and `max_megapixels`.

A pattern is matched (fnmatch, case-insensitive) against a checkpoint's title, the title
without its ` [hash]`, and its bare name (no folder, no extension), so `sdxl*` and
`*turbo*` read as a user expects. Patterns starting with `!` deny; the others, if any, are
the only ones allowed. A job's size is the largest image its generations work at.

Limits are checked when a run is planned (a job no node of the run may make is refused, naming
the limits) and reach the queue's claim as the ids of the jobs a node is to pass over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import PurePosixPath

from stablenew_tui.config import NodeConfig
from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.jobs import PromptSpec
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.pipeline.stage_requests import largest_generation, spec_model
from stablenew_tui.webui.models import without_hash


@dataclass(frozen=True)
class JobNeeds:
    """What a job asks of a node."""

    model: str | None  # None: whatever the node has loaded
    megapixels: float

    @classmethod
    def of(cls, settings: PipelineSettings, spec: PromptSpec) -> JobNeeds:
        width, height = largest_generation(settings, spec)
        return cls(spec_model(settings, spec), width * height / 1_000_000)


def refusal(node: NodeConfig, needs: JobNeeds) -> str | None:
    """Why `node`'s limits keep it from a job with these needs; None when they do not."""
    if node.max_megapixels is not None and needs.megapixels > node.max_megapixels:
        return f"{node.name} makes at most {node.max_megapixels:g} MP"
    if needs.model is not None and node.models and not model_allowed(node.models, needs.model):
        return f"{node.name} takes only models {', '.join(node.models)}"
    return None


def model_allowed(patterns: Sequence[str], model: str) -> bool:
    names = _names_of(model)
    allow = [pattern for pattern in patterns if not pattern.startswith("!")]
    deny = [pattern[1:] for pattern in patterns if pattern.startswith("!")]
    if any(_matches(pattern, names) for pattern in deny):
        return False
    return not allow or any(_matches(pattern, names) for pattern in allow)


def nobody_makes(needs: JobNeeds, reasons: Sequence[str | None]) -> str | None:
    """Why no node may make a job with these needs, given each node's reason to refuse it
    (None: that node may); None when one may."""
    if not reasons or any(reason is None for reason in reasons):
        return None
    what = f"model {needs.model}, " if needs.model else ""
    listed = "; ".join(reason for reason in reasons if reason)
    return f"no node of the run may make it ({what}{needs.megapixels:.3g} MP): {listed}"


def check_plan(
    settings: PipelineSettings, specs: Sequence[PromptSpec], nodes: Sequence[NodeConfig]
) -> None:
    """Refuse a run with an image no node of it may make, naming the limits in the way."""
    for spec in specs:
        needs = JobNeeds.of(settings, spec)
        reason = nobody_makes(needs, [refusal(node, needs) for node in nodes])
        if reason is not None:
            raise InputError(f"[[nodes]] limits: the prompt {spec.prompt[:40]!r}: {reason}")


def _names_of(model: str) -> list[str]:
    bare = without_hash(model)
    return [model, bare, PurePosixPath(bare.replace("\\", "/")).stem]


def _matches(pattern: str, names: list[str]) -> bool:
    return any(fnmatch(name.casefold(), pattern.casefold()) for name in names)
