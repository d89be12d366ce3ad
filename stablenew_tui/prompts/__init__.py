"""Prompt templates, wildcards and prompt packs: parse once, sample many, lock what you like.

Parse a template with `Template.parse`, build one `PromptSampler` with a `WildcardLibrary`, a
mode and `SegmentLocks`, then draw `sampler.prompts(seeds)`: each `ResolvedPrompt` carries its
text, every segment's choice, the locks, the mode and its prompt seed. Packs (`load_pack`) are
lists of templates with negatives and per-stage overrides.
"""

from stablenew_tui.prompts.errors import LockError, PackError, TemplateError, WildcardFileError
from stablenew_tui.prompts.grammar import SamplingMode
from stablenew_tui.prompts.locks import DroppedLock, RebasedLocks, SegmentLocks
from stablenew_tui.prompts.packs import (
    Pack,
    PackInfo,
    PackPrompt,
    discover_packs,
    find_pack,
    load_pack,
    pack_folders,
)
from stablenew_tui.prompts.sampler import (
    PromptSampler,
    ResolvedPrompt,
    SegmentChoice,
)
from stablenew_tui.prompts.template import Segment, Template
from stablenew_tui.prompts.wildcards import WildcardLibrary, WildcardValues

__all__ = [
    "DroppedLock",
    "LockError",
    "Pack",
    "PackError",
    "PackInfo",
    "PackPrompt",
    "PromptSampler",
    "RebasedLocks",
    "ResolvedPrompt",
    "SamplingMode",
    "Segment",
    "SegmentChoice",
    "SegmentLocks",
    "Template",
    "TemplateError",
    "WildcardFileError",
    "WildcardLibrary",
    "WildcardValues",
    "discover_packs",
    "find_pack",
    "load_pack",
    "pack_folders",
]
