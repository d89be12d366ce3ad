"""Wildcard collections: the names a set of folders defines and the values behind each name.

Names come from file paths (`dir/name.txt` is `dir/name`) and from the keys of YAML/JSON files.
When two files define the same name, the earlier folder wins, then the earlier path in sorted
order; names defined inline (a preset's tokens, say) win over the folders. Values keep file
order (duplicates dropped, first one kept); Dynamic Prompts sorts them.

Everything is read once: the folder index on first use, a text file the first time its name is
drawn, and each value is parsed the first time it is drawn. A 10,000-line file costs one read
and one split, whatever the number of prompts. Files that resolve outside their folder (through
a symbolic link) are ignored, and names with `..` or a leading `/` are refused at parse time.

Globs: `*` matches within one path part, `**` across parts, `?` one character.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from itertools import accumulate
from pathlib import Path

from stablenew_tui.paths import bundled_data
from stablenew_tui.prompts.errors import Origin, WildcardFileError
from stablenew_tui.prompts.grammar import Sequence, Wildcard, has_constructs, parse_sequence
from stablenew_tui.prompts.wildcard_files import (
    STRUCTURED_SUFFIXES,
    WildcardEntry,
    read_structured_file,
    read_text_file,
)

EXAMPLE_WILDCARDS = bundled_data("wildcards")


def wildcard_folders(configured: Iterable[str | Path] = ()) -> list[Path]:
    """The configured folders; the bundled examples when none are configured."""
    folders = [Path(folder).expanduser() for folder in configured]
    return folders or [EXAMPLE_WILDCARDS]


class WildcardValues:
    """The values one wildcard name (or glob) stands for, each parsed on first use."""

    __slots__ = ("_parsed", "cumulative_weights", "entries", "name", "texts")

    def __init__(self, name: str, entries: Iterable[WildcardEntry]) -> None:
        unique: dict[str, WildcardEntry] = {}
        for entry in entries:
            unique.setdefault(entry.text, entry)
        self.name = name
        self.entries = tuple(unique.values())
        self.texts = tuple(unique)
        weights = [entry.weight for entry in self.entries]
        self.cumulative_weights: tuple[float, ...] | None = None
        if len(set(weights)) > 1:
            self.cumulative_weights = tuple(accumulate(weights))
        self._parsed: list[str | Sequence | None] = [None] * len(self.texts)

    def __len__(self) -> int:
        return len(self.texts)

    def part(self, index: int) -> str | Sequence:
        """Value `index` as plain text, or parsed when it holds constructs of its own."""
        parsed = self._parsed[index]
        if parsed is None:
            text = self.texts[index]
            if has_constructs(text):
                entry = self.entries[index]
                parsed = parse_sequence(text, Origin(entry.source, text, entry.line))
                if parsed.literal is not None:
                    parsed = parsed.literal
            else:
                parsed = text
            self._parsed[index] = parsed
        return parsed


# Names defined inline: name → (values, the file that defines them).
InlineWildcards = Mapping[str, tuple[tuple[str, ...], str]]


class WildcardLibrary:
    """The wildcard names defined in `folders` and `inline`; build one per run and share it."""

    def __init__(
        self, folders: Iterable[str | Path] = (), inline: InlineWildcards | None = None
    ) -> None:
        self.folders = tuple(Path(folder) for folder in folders)
        for folder in self.folders:
            if not folder.is_dir():
                raise WildcardFileError("not a folder of wildcard files", source=str(folder))
        self._inline = {
            name: [WildcardEntry(value, source, None) for value in values]
            for name, (values, source) in (inline or {}).items()
        }
        self._sources: dict[str, Path | list[WildcardEntry]] | None = None
        self._values: dict[str, WildcardValues | None] = {}

    def with_inline(self, inline: InlineWildcards) -> WildcardLibrary:
        """These folders with `inline` names too (the same library when there are none)."""
        return WildcardLibrary(self.folders, inline) if inline else self

    @property
    def names(self) -> list[str]:
        return sorted(self._index())

    def values(self, name: str) -> WildcardValues | None:
        """The values behind `name` (a name or a glob), or None when nothing matches."""
        if name in self._values:
            return self._values[name]
        index = self._index()
        if "*" in name or "?" in name:
            pattern = _glob_pattern(name)
            matched = [key for key in sorted(index) if pattern.fullmatch(key)]
        else:
            matched = [name] if name in index else []
        values = None
        if matched:
            values = WildcardValues(name, (e for key in matched for e in self._entries(key)))
        self._values[name] = values
        return values

    def resolve(self, wildcard: Wildcard) -> WildcardValues:
        """The values for a parsed wildcard; a `TemplateError` at its place when there are none."""
        values = self._values.get(wildcard.name)
        if values is None or not values.texts:  # not looked up yet, unknown, or empty
            values = self.values(wildcard.name)
            if values is None or not values.texts:
                raise wildcard.origin.error(self._unknown(wildcard.name), wildcard.offset)
        return values

    def _unknown(self, name: str) -> str:
        if not self.folders and not self._inline:
            return f"unknown wildcard '__{name}__': no wildcard folders are configured"
        if name in self._index():
            return f"wildcard '__{name}__' has no values"
        close = difflib.get_close_matches(name, self._index(), n=3, cutoff=0.6)
        if close:
            return f"unknown wildcard '__{name}__': closest names are {', '.join(close)}"
        return f"unknown wildcard '__{name}__': no name in the wildcard folders is close to it"

    def _entries(self, name: str) -> list[WildcardEntry]:
        index = self._index()
        source = index[name]
        if isinstance(source, Path):
            source = index[name] = read_text_file(source)
        return source

    def _index(self) -> dict[str, Path | list[WildcardEntry]]:
        if self._sources is None:
            sources: dict[str, Path | list[WildcardEntry]] = dict(self._inline)
            for folder in self.folders:
                for name, source in _folder_sources(folder):
                    sources.setdefault(name, source)
            self._sources = sources
        return self._sources


def _folder_sources(folder: Path) -> Iterable[tuple[str, Path | list[WildcardEntry]]]:
    root = folder.resolve()
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        relative = Path(directory).relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        for file_name in sorted(files):
            path = Path(directory, file_name)
            if file_name.startswith(".") or not path.resolve().is_relative_to(root):
                continue
            if path.suffix == ".txt":
                yield prefix + path.stem, path
            elif path.suffix in STRUCTURED_SUFFIXES:
                yield from read_structured_file(path, prefix)


def _glob_pattern(name: str) -> re.Pattern:
    pieces = []
    for token in re.split(r"(\*\*/|\*\*|\*|\?)", name):
        if token == "**/":
            pieces.append("(?:.*/)?")
        elif token == "**":
            pieces.append(".*")
        elif token == "*":
            pieces.append("[^/]*")
        elif token == "?":
            pieces.append("[^/]")
        else:
            pieces.append(re.escape(token))
    return re.compile("".join(pieces), re.DOTALL)
