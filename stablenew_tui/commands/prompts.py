"""`stablenew prompts`: expand templates and packs, list a template's segments, list packs."""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from pathlib import Path

from stablenew_tui.commands.common import add_sampling_arguments
from stablenew_tui.errors import InputError
from stablenew_tui.learning.learned import load_beliefs
from stablenew_tui.paths import AppPaths
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
pack. Segment indexes for --lock and --pin are those `stablenew prompts segments TEMPLATE`
lists. --mode learned favours the options you rated higher in images of the same template
(see `stablenew learn report`). Wildcards come from --wildcards DIR, else from the example
wildcards."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prompts",
        help="expand prompt templates and packs",
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
        "constructs with the index that --lock and --pin take.",
    )
    segments.add_argument("template", metavar="TEMPLATE")
    segments.add_argument("--json", action="store_true", help="one JSON object per segment")
    segments.set_defaults(func=_segments)

    packs = commands.add_parser("packs", help="list the packs in the pack folders")
    packs.add_argument("--packs", action="append", default=[], type=Path, metavar="DIR")
    packs.set_defaults(func=_packs)


def _add_folder_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wildcards", action="append", default=[], type=Path, metavar="DIR",
        help="a wildcard folder (repeatable; default: the example wildcards)",
    )  # fmt: skip
    parser.add_argument(
        "--packs", action="append", default=[], type=Path, metavar="DIR",
        help="a pack folder, searched before the example packs (repeatable)",
    )  # fmt: skip


def _expand(args: argparse.Namespace) -> int:
    mode = SamplingMode(args.mode)
    if args.count is not None and args.count < 0:
        raise InputError(f"--count must be 0 or more, got {args.count}")
    count = args.count if args.count is not None else _default_count(mode)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    library = WildcardLibrary(_wildcard_folders(args.wildcards))
    locks = locks_from_flags(args.lock, args.pin)
    if (args.source is None) == (args.prompt is None):
        raise InputError("give a TEMPLATE or PACK, or --prompt TEXT (one of them)")
    pack = _pack(args.source, args.packs) if args.prompt is None else None
    beliefs = {}
    if mode is SamplingMode.LEARNED:  # what the ratings so far say
        beliefs = load_beliefs(AppPaths.from_environment().data_dir)
    if pack is None:
        template = Template.parse(args.prompt if args.prompt is not None else args.source)
        sampler = PromptSampler(
            template, library, mode=mode, locks=locks, beliefs=beliefs.get(template.text)
        )
        for prompt in sampler.prompts(range(seed, seed + count)):
            _print(prompt, args.json, {})
        return 0
    if locks:
        raise InputError("--lock and --pin apply to one template, not to a pack")
    next_seed = seed
    for entry in pack.prompts:
        template = pack.template(entry)
        sampler = PromptSampler(template, library, mode=mode, beliefs=beliefs.get(template.text))
        extra = {"negative": pack.negative_for(entry), "pack": pack.name, "line": entry.line}
        for prompt in sampler.prompts(range(next_seed, next_seed + count)):
            _print(prompt, args.json, extra)
            next_seed = prompt.prompt_seed + 1
    return 0


def _default_count(mode: SamplingMode) -> int:
    return COMBINATORIAL_CAP if mode is SamplingMode.COMBINATORIAL else 1


def _wildcard_folders(given: list[Path]) -> list[Path]:
    for folder in given:
        if not folder.is_dir():
            raise InputError(f"--wildcards {folder}: not a folder")
    return wildcard_folders(given)


def _pack(source: str, extra_folders: list[Path]) -> Pack | None:
    for folder in extra_folders:
        if not folder.is_dir():
            raise InputError(f"--packs {folder}: not a folder")
    return pack_named(source, pack_folders(extra_folders))


def _print(prompt: ResolvedPrompt, as_json: bool, extra: dict) -> None:
    if as_json:
        print(json.dumps({**prompt.to_record(), **extra}, ensure_ascii=False))
    else:
        print(prompt.text)


def _segments(args: argparse.Namespace) -> int:
    for line in _segment_lines(Template.parse(args.template), args.json):
        print(line)
    return 0


def _segment_lines(template: Template, as_json: bool) -> Iterator[str]:
    for segment in template.segments:
        if as_json:
            fields = {"index": segment.index, "kind": segment.kind, "source": segment.source}
            yield json.dumps(fields, ensure_ascii=False)
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
