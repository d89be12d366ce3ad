"""Prompt packs: ready-made lists of prompts, found by name in pack folders.

Formats:
- `.txt`: prompts separated by blank lines. In a block, lines starting with `neg:` form the
  prompt's negative, lines starting with `#` are comments, and the other lines join into one
  prompt with ", " (a comma ending a line is dropped first, so it is never doubled). Keep each
  `{…}` construct on one line.
- `.tsv`: one prompt per line, `positive<TAB>negative` (the tab and the negative are optional);
  blank lines and `#` comments are skipped.
- `.toml` / `.json`: `name` (the title shown), `negative` (added to every prompt's negative),
  `prompts` (a list of strings, or of tables with `prompt` and optional `negative`, `model`
  and `vae`: the checkpoint and VAE that prompt is always made with),
  `overrides` (per-stage settings, `{"txt2img": {"steps": 30}, …}`, kept as raw data for the
  pipeline to merge) and `randomization` (see `classic.randomization`).

A `.json` next to a `.txt` or `.tsv` of the same name is not a pack: it is that pack's
settings, in the classic StableNew format (see `classic.settings_file`), and acts as the
pack's own `negative`, `overrides` and `randomization`.

A pack's name is its path under its folder without the suffix (`portraits`, `styles/ink`). An
earlier folder wins over a later one, then `.toml`, `.json`, `.txt`, `.tsv` in that order.
Names with `..` or a leading `/` are refused, and so are files reaching outside their folder
through a symbolic link. Prompts are templates: each is parsed on loading, so a syntax error
names the pack file and line. Negatives are plain text.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.paths import bundled_data
from stablenew_tui.prompts.classic.randomization import Randomization, read_randomization
from stablenew_tui.prompts.classic.settings_file import read_settings_file
from stablenew_tui.prompts.errors import PackError
from stablenew_tui.prompts.grammar import has_constructs
from stablenew_tui.prompts.key_lines import KeyLines, SettingsOrigin
from stablenew_tui.prompts.pack_documents import read_document
from stablenew_tui.prompts.template import Template

PACK_SUFFIXES = (".toml", ".json", ".txt", ".tsv")
SIDECAR_SUFFIX = ".json"  # next to a pack of one of these, it holds that pack's settings
_SIDECAR_OF = (".txt", ".tsv")
EXAMPLE_PACKS = bundled_data("packs")
_DRIVE = re.compile(r"[A-Za-z]:")
_PACK_NAME = re.compile(r"[\w.-]+(?:/[\w.-]+)*")


@dataclass(frozen=True)
class PackPrompt:
    prompt: str  # a template
    negative: str
    line: int  # where the prompt starts in the pack file
    model: str | None = None  # the checkpoint this prompt is made with, whatever the run's
    vae: str | None = None


@dataclass(frozen=True)
class Pack:
    name: str
    path: Path
    prompts: tuple[PackPrompt, ...]
    negative: str = ""  # the pack-wide negative
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    override_origins: Mapping[tuple[str, ...], SettingsOrigin] = field(default_factory=dict)
    randomization: Randomization = field(default_factory=Randomization)
    settings_file: Path | None = None  # the classic sidecar the settings came from
    warnings: tuple[str, ...] = ()  # what the pack asks for that cannot be done

    def negative_for(self, prompt: PackPrompt, fallback: str = "") -> str:
        """The prompt's own negative followed by the pack-wide one (`fallback`, a preset's,
        when the pack has none)."""
        return ", ".join(text for text in (prompt.negative, self.negative or fallback) if text)

    def template(self, prompt: PackPrompt) -> Template:
        return Template.parse(prompt.prompt, str(self.path), prompt.line)


@dataclass(frozen=True)
class PackInfo:
    name: str
    path: Path
    folder: Path


def pack_folders(extra: Iterable[str | Path] = ()) -> list[Path]:
    """`extra` folders first, then the example packs shipped with StableNew."""
    return [*(Path(folder) for folder in extra), EXAMPLE_PACKS]


def discover_packs(folders: Iterable[str | Path]) -> list[PackInfo]:
    """Every pack in `folders`, by name; the first of equal names wins."""
    found: dict[str, PackInfo] = {}
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise PackError("not a folder of prompt packs", source=str(folder))
        root = folder.resolve()
        candidates = []
        for directory, subdirectories, files in os.walk(root):
            subdirectories[:] = [d for d in subdirectories if not d.startswith(".")]
            for file_name in files:
                path = Path(directory, file_name)
                if (
                    path.suffix in PACK_SUFFIXES
                    and not file_name.startswith(".")
                    and not (pack_of_sidecar(path))
                ):
                    name = path.relative_to(root).with_suffix("").as_posix()
                    candidates.append((name, PACK_SUFFIXES.index(path.suffix), path))
        for name, _, path in sorted(candidates):
            if name not in found and path.resolve().is_relative_to(root):
                found[name] = PackInfo(name, path, folder)
    return sorted(found.values(), key=lambda info: info.name)


def find_pack(name: str, folders: Iterable[str | Path]) -> PackInfo | None:
    """The pack called `name` (a suffix is allowed) in `folders`, or None."""
    if name.startswith("/") or "\\" in name or _DRIVE.match(name) or ".." in name.split("/"):
        raise PackError(
            f"pack name '{name}' leaves the pack folders: expected a name relative to them"
        )
    stem = name[: -len(Path(name).suffix)] if Path(name).suffix in PACK_SUFFIXES else name
    return next((info for info in discover_packs(folders) if info.name == stem), None)


def pack_of_sidecar(path: Path) -> Path | None:
    """The `.txt` or `.tsv` pack whose settings `path` holds, or None when it holds none."""
    if path.suffix != SIDECAR_SUFFIX:
        return None
    return next((pack for pack in map(path.with_suffix, _SIDECAR_OF) if pack.is_file()), None)


def sidecar_of(path: Path) -> Path | None:
    """The classic settings file of the `.txt` or `.tsv` pack at `path`, if it has one."""
    sidecar = path.with_suffix(SIDECAR_SUFFIX)
    return sidecar if path.suffix in _SIDECAR_OF and sidecar.is_file() else None


def is_pack_file(path: Path) -> bool:
    """Whether `path` is an existing file with a pack suffix (any text is safe to ask about)."""
    try:
        return path.suffix in PACK_SUFFIXES and path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, say
        return False


def load_pack(path_or_name: str | Path, folders: Iterable[str | Path] = ()) -> Pack:
    """The pack at a file path, or else the pack so named in `folders`."""
    folders = list(folders)
    path = Path(path_or_name)
    if not is_pack_file(path):
        if path.is_absolute() and path.suffix in PACK_SUFFIXES:
            raise PackError("no such pack file; use --prompt for prompt text", source=str(path))
        info = find_pack(str(path_or_name), folders)
        if info is None:
            raise PackError(_not_found(str(path_or_name), folders))
        path = info.path
    pack_file = pack_of_sidecar(path)
    if pack_file is not None:
        raise PackError(
            f"holds the settings of the pack {pack_file.name}: run that one (or its name, "
            f"{pack_file.stem}) and these settings come with it",
            source=str(path),
        )
    text = _read(path)
    if path.suffix in _SIDECAR_OF:
        prompts = _txt_prompts(path, text) if path.suffix == ".txt" else _tsv_prompts(path, text)
        pack = _with_sidecar(Pack(path.stem, path, prompts))
    else:
        document = read_document(path, text, _decode(path, text))
        randomization = Randomization()
        if document.randomization is not None:
            randomization = read_randomization(
                document.randomization, KeyLines(path, text), enabled_by_default=True
            )
        pack = Pack(
            document.name or path.stem, path,
            tuple(PackPrompt(*entry) for entry in document.prompts), document.negative,
            document.overrides, document.override_origins, randomization,
            warnings=randomization.warnings,
        )  # fmt: skip
    if not pack.prompts:
        raise PackError("the pack holds no prompts", source=str(path), line=1)
    for prompt in pack.prompts:
        pack.template(prompt)  # a syntax error names the pack file and line now
    return pack


def _with_sidecar(pack: Pack) -> Pack:
    """The pack with the settings of its classic sidecar, when it has one."""
    sidecar = sidecar_of(pack.path)
    if sidecar is None:
        return pack
    settings = read_settings_file(sidecar, PackError)
    return Pack(
        pack.name, pack.path, pack.prompts, settings.negative, settings.table,
        settings.origins, settings.randomization, sidecar, settings.warnings,
    )  # fmt: skip


def looks_like_pack(source: str) -> bool:
    """Whether `source` refers to a pack rather than being prompt text: an existing pack file,
    a path with a pack suffix, or one word of name characters (`landscapes`, `styles/ink`).
    Text with a template construct (`{a|b}`, `__name__`) is always prompt text."""
    if is_pack_file(Path(source)):
        return True
    if has_constructs(source):
        return False
    return _PACK_NAME.fullmatch(source) is not None or Path(source).suffix in PACK_SUFFIXES


def pack_named(source: str, folders: Iterable[str | Path]) -> Pack | None:
    """The pack `source` refers to, or None when it is prompt text (see `looks_like_pack`).
    A name that refers to no pack is an error, never prompt text."""
    return load_pack(source, folders) if looks_like_pack(source) else None


def _not_found(name: str, folders: list) -> str:
    names = [info.name for info in discover_packs(folders)]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    where = ", ".join(str(folder) for folder in folders) or "no pack folders"
    hint = f" (closest names: {', '.join(close)})" if close else ""
    return f"no pack named '{name}' in {where}{hint}; use --prompt for prompt text"


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PackError(f"cannot read: {error.strerror}", source=str(path)) from error
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise PackError("not UTF-8 text", source=str(path), line=line) from error


def _decode(path: Path, text: str) -> Any:
    try:
        return _decode_by_suffix(path, text)
    except RecursionError:
        raise PackError("nested too deeply", source=str(path)) from None


def _decode_by_suffix(path: Path, text: str) -> Any:
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise _syntax_error(path, text, error.msg, error.lineno, error.colno) from error
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)", str(error))
        message = str(error)[: found.start()] if found else str(error)
        if found and found.group(1):
            line, column = int(found.group(1)), int(found.group(2))
        else:  # the end of the document, or a message without a place
            line, column = text.count("\n") + 1, 1
        raise _syntax_error(path, text, message, line, column) from error


def _syntax_error(path: Path, text: str, message: str, line: int, column: int) -> PackError:
    lines = text.splitlines()
    excerpt = lines[line - 1] if 0 < line <= len(lines) else None
    kind = "JSON" if path.suffix == ".json" else "TOML"
    return PackError(
        f"not valid {kind}: {message}",
        source=str(path),
        line=line,
        column=column if excerpt is not None else None,
        excerpt=excerpt,
    )


def _txt_prompts(path: Path, text: str) -> tuple[PackPrompt, ...]:
    prompts: list[PackPrompt] = []
    phrases: list[str] = []
    negatives: list[str] = []
    first_line = first_negative_line = 0

    def end_block() -> None:
        nonlocal first_line, first_negative_line
        if negatives and not phrases:
            raise PackError(
                "a negative without a prompt: expected prompt lines in the same block",
                source=str(path),
                line=first_negative_line,
            )
        if phrases:
            prompts.append(PackPrompt(_join(phrases), _join(negatives), first_line))
        phrases.clear()
        negatives.clear()
        first_line = first_negative_line = 0

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            end_block()
        elif line.startswith("#"):
            continue
        elif line[:4].lower() == "neg:":
            negatives.append(line[4:])
            first_negative_line = first_negative_line or number
        else:
            phrases.append(line)
            first_line = first_line or number
    end_block()
    return tuple(prompts)


def _join(lines: list[str]) -> str:
    phrases = (line.strip().rstrip(",").rstrip() for line in lines)
    return ", ".join(phrase for phrase in phrases if phrase)


def _tsv_prompts(path: Path, text: str) -> tuple[PackPrompt, ...]:
    prompts = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        fields = raw.split("\t")
        if len(fields) > 2:
            raise PackError(
                f"{len(fields) - 1} tabs: expected one tab between the prompt and the negative",
                source=str(path),
                line=number,
                column=len(fields[0]) + len(fields[1]) + 2,
                excerpt=raw,
            )
        if not fields[0].strip():
            raise PackError(
                "empty prompt: expected text before the tab", source=str(path), line=number
            )
        negative = fields[1].strip() if len(fields) == 2 else ""
        prompts.append(PackPrompt(fields[0].strip(), negative, number))
    return tuple(prompts)
