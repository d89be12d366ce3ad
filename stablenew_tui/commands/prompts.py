"""`stablenew prompts`: expand templates and packs, list a template's segments, list packs.

Folders come from the flags first, then from the config's [paths]; a classic preset
(`--preset`) and a pack's own randomization are written into the templates as a run writes
them, so what is printed is what a run would draw.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stablenew_tui.commands.common import (
    add_preset_argument,
    add_sampling_arguments,
    load_app_config,
)
from stablenew_tui.errors import InputError
from stablenew_tui.learning.learned import load_beliefs
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import randomized_entries
from stablenew_tui.pipeline.prompt_plan import TemplateEntry
from stablenew_tui.prompts import (
    Pack,
    PromptSampler,
    ResolvedPrompt,
    SamplingMode,
    Template,
    WildcardLibrary,
    discover_packs,
    pack_folders,
)
from stablenew_tui.prompts.classic.presets import load_preset
from stablenew_tui.prompts.classic.randomization import Randomization
from stablenew_tui.prompts.classic.rewrite import inline_wildcards
from stablenew_tui.prompts.locks import locks_from_flags
from stablenew_tui.prompts.packs import PACK_SUFFIXES, pack_named
from stablenew_tui.prompts.wildcards import wildcard_folders

COMBINATORIAL_CAP = 1000

_EXPAND_HELP = f"""\
Print the prompts a template or a pack expands to, one per line (--json: one object per
prompt, with each segment's choice, the locks and the prompt seed).

TEMPLATE|PACK is a pack when it is a pack file, a path ending in {", ".join(PACK_SUFFIXES)},
or one word of name characters (`landscapes`, `styles/ink`) without template syntax; such a
name must be a pack in the pack folders (--packs DIR, then the example packs), or it is an
error. Anything else is template text; --prompt TEXT always is. Each prompt has its own seed:
--seed S gives S, S+1, ... (random when not given). --count defaults to 1, and in
combinatorial mode to {COMBINATORIAL_CAP}, a cap; with a pack it counts per prompt of the
pack. A prompt whose classic matrix fans out (--preset, or the pack's own settings) is
expanded combinatorially up to the matrix's limit. Segment indexes for --lock and --pin are
those `stablenew prompts segments TEMPLATE` lists. --mode learned favours the options you
rated higher in images of the same template (see `stablenew learn report`). Wildcards come
from --wildcards DIR, else from the config's wildcard folders, else from the example
wildcards."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prompts",
        description="Expand prompt templates and packs, list segments, list packs.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    parser.set_defaults(func=lambda args: parser.print_help() or 0)

    expand = commands.add_parser(
        "expand",
        help="print the prompts a template or pack expands to",
        description=_EXPAND_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    expand.add_argument("source", nargs="?", metavar="TEMPLATE|PACK")
    expand.add_argument("--prompt", metavar="TEXT", help="template text, never read as a pack")
    expand.add_argument("--count", type=int, metavar="N", help="prompts to print (per prompt)")
    expand.add_argument("--seed", type=int, metavar="S", help="seed of the first prompt")
    add_sampling_arguments(expand)
    _add_folder_options(expand)
    expand.add_argument("--json", action="store_true", help="one JSON object per prompt")
    expand.set_defaults(func=_expand)

    segments = commands.add_parser(
        "segments",
        help="list a template's segments with their indexes and source",
        description="List a template's segments: literal runs (index -) and randomized "
        "constructs with the index that --lock and --pin take. Given a pack, list each of "
        "its prompts' segments; a classic preset's (--preset) or pack's randomization shows "
        "as the segments it becomes.",
    )
    segments.add_argument("template", metavar="TEMPLATE|PACK")
    _add_folder_options(segments)
    segments.add_argument("--json", action="store_true", help="one JSON object per segment")
    segments.set_defaults(func=_segments)

    packs = commands.add_parser("packs", help="list the packs in the pack folders")
    packs.add_argument("--packs", action="append", default=[], type=Path, metavar="DIR")
    packs.set_defaults(func=_packs)


def _add_folder_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, metavar="FILE", default=argparse.SUPPRESS,  # see add_node_arguments
        help="config file to use",
    )  # fmt: skip
    add_preset_argument(parser)
    parser.add_argument(
        "--presets", action="append", default=[], type=Path, metavar="DIR",
        help="a preset folder, searched before the config's (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--wildcards", action="append", default=[], type=Path, metavar="DIR",
        help="a wildcard folder (repeatable; default: the config's, else the example ones)",
    )  # fmt: skip
    parser.add_argument(
        "--packs", action="append", default=[], type=Path, metavar="DIR",
        help="a pack folder, searched before the config's and the example packs (repeatable)",
    )  # fmt: skip


class _Sources:
    """The folders, the preset and the pack the flags and the config name."""

    def __init__(self, args: argparse.Namespace) -> None:
        for flag, folders in (("--packs", args.packs), ("--wildcards", args.wildcards),
                              ("--presets", args.presets)):  # fmt: skip
            for folder in folders:
                if not folder.is_dir():
                    raise InputError(f"{flag} {folder}: not a folder")
        paths = load_app_config(args.config, AppPaths.from_environment()).paths
        self.pack_folders = pack_folders([*args.packs, *_expanded(paths.pack_folders)])
        wildcards = args.wildcards or _expanded(paths.wildcard_folders)
        preset_folders = [*args.presets, *_expanded(paths.preset_folders)]
        self.preset = load_preset(args.preset, preset_folders) if args.preset else None
        self.negative = self.preset.negative if self.preset else ""
        self.library = WildcardLibrary(wildcard_folders(wildcards))

    def pack(self, source: str) -> Pack | None:
        return pack_named(source, self.pack_folders)

    def entries(self, pack: Pack | None, text: str) -> list[TemplateEntry]:
        """The templates to draw from, the classic randomization written into them; the
        library then knows its inline tokens."""
        randomization = pack.randomization if pack else Randomization()
        if self.preset is not None:
            randomization = randomization.over(self.preset.randomization)
        self.library = self.library.with_inline(inline_wildcards(randomization))
        if pack is None:
            return randomized_entries([TemplateEntry(text, self.negative)], randomization)
        entries = [
            TemplateEntry(entry.prompt, pack.negative_for(entry, self.negative), str(pack.path),
                          entry.line)
            for entry in pack.prompts
        ]  # fmt: skip
        return randomized_entries(entries, randomization)

    def warnings(self, pack: Pack | None) -> list[str]:
        return [*(self.preset.warnings if self.preset else ()), *(pack.warnings if pack else ())]


def _expanded(folders: list[Path]) -> list[Path]:
    return [folder.expanduser() for folder in folders]


def _expand(args: argparse.Namespace) -> int:
    mode = SamplingMode(args.mode)
    if args.count is not None and args.count < 0:
        raise InputError(f"--count must be 0 or more, got {args.count}")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    locks = locks_from_flags(args.lock, args.pin)
    if (args.source is None) == (args.prompt is None):
        raise InputError("give a TEMPLATE or PACK, or --prompt TEXT (one of them)")
    sources = _Sources(args)
    pack = sources.pack(args.source) if args.prompt is None else None
    entries = sources.entries(pack, args.prompt if args.prompt is not None else args.source)
    _warn(sources.warnings(pack))
    if pack is not None and locks:
        raise InputError("--lock and --pin apply to one template, not to a pack")
    beliefs = {}
    if mode is SamplingMode.LEARNED:  # what the ratings so far say
        beliefs = load_beliefs(AppPaths.from_environment().data_dir)
    next_seed, number = seed, 0
    for entry in entries:
        entry_mode = entry.mode or mode
        template = Template.parse(entry.text, entry.source, entry.line)
        sampler = PromptSampler(
            template, sources.library, mode=entry_mode, locks=locks,
            beliefs=beliefs.get(template.text),
        )  # fmt: skip
        count = args.count if args.count is not None else _default_count(entry_mode, entry)
        extra: dict[str, Any] = {"negative": entry.negative} if entry.negative or pack else {}
        if pack is not None:
            extra.update(pack=pack.name, line=entry.line)
        for prompt in sampler.prompts(range(next_seed, next_seed + count), number):
            _print(prompt, args.json, extra)
            next_seed, number = prompt.prompt_seed + 1, prompt.number + 1
    return 0


def _default_count(mode: SamplingMode, entry: TemplateEntry) -> int:
    if mode is not SamplingMode.COMBINATORIAL:
        return 1
    return entry.max_prompts or COMBINATORIAL_CAP


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"stablenew: warning: {warning}", file=sys.stderr)


def _print(prompt: ResolvedPrompt, as_json: bool, extra: dict) -> None:
    if as_json:
        print(json.dumps({**prompt.to_record(), **extra}, ensure_ascii=False))
    else:
        print(prompt.text)


def _segments(args: argparse.Namespace) -> int:
    sources = _Sources(args)
    pack = sources.pack(args.template)
    _warn(sources.warnings(pack))
    for number, entry in enumerate(sources.entries(pack, args.template), start=1):
        template = Template.parse(entry.text, entry.source, entry.line)
        if pack is not None and not args.json:
            print(f"# prompt {number} ({pack.path.name}:{entry.line})")
        where = {"prompt": number, "line": entry.line} if pack is not None else {}
        for line in _segment_lines(template, args.json, where):
            print(line)
    return 0


def _segment_lines(template: Template, as_json: bool, where: dict) -> Iterator[str]:
    for segment in template.segments:
        if as_json:
            fields = {"index": segment.index, "kind": segment.kind, "source": segment.source}
            yield json.dumps({**where, **fields}, ensure_ascii=False)
        else:
            index = "-" if segment.index is None else str(segment.index)
            source = segment.source.replace("\n", "\\n")
            if segment.kind == "literal":
                source = f'"{source}"'  # shows where literal runs start and end
            yield f"{index:>3}  {segment.kind:<10}  {source}"


def _packs(args: argparse.Namespace) -> int:
    for info in discover_packs(pack_folders(args.packs)):
        print(f"{info.name}\t{info.path}")
    return 0
