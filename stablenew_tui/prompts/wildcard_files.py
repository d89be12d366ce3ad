"""Reading wildcard files: `.txt` (one value per line) and `.yaml`/`.yml`/`.json` (keys are names).

As in Dynamic Prompts: in a text file, blank lines and lines starting with `#` are skipped and
values are stripped; in a structured file, nested keys join with `/` into wildcard names (the
file's own name is not part of them), a top-level list is named after the file, and list items
may carry a weight as `"2::value"` or `{text: value, weight: 2}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from stablenew_tui.prompts.errors import WildcardFileError
from stablenew_tui.prompts.grammar import MAX_NESTING

STRUCTURED_SUFFIXES = (".yaml", ".yml", ".json")
_WEIGHTED = re.compile(r"(\d+(?:\.\d*)?|\.\d+)::(.*)", re.DOTALL)


class WildcardEntry(NamedTuple):
    text: str
    source: str  # the file, for errors in the value's own syntax
    line: int | None  # None inside JSON files, which keep no line numbers
    weight: float = 1.0


class _Item(NamedTuple):
    """A YAML or JSON value with the line it starts on, so both formats share one reader."""

    kind: str  # "map", "list", "text" or "null"
    value: Any  # list of (key, _Item) for maps, list of _Item for lists, str for text
    line: int | None


def read_text_file(path: Path) -> list[WildcardEntry]:
    source = str(path)
    entries = []
    for number, raw in enumerate(_read(path).splitlines(), start=1):
        text = raw.strip()
        if text and not text.startswith("#"):
            entries.append(WildcardEntry(text, source, number))
    return entries


def read_structured_file(path: Path, prefix: str) -> Iterator[tuple[str, list[WildcardEntry]]]:
    """(name, entries) for every list in the file; `prefix` is the file's folder as a name."""
    root = _yaml_items(path) if path.suffix in (".yaml", ".yml") else _json_items(path)
    if root.kind == "map":
        yield from _names(root, path, prefix)
    elif root.kind == "list":
        yield prefix + path.stem, _entries(root, path, path.stem)
    elif root.kind != "null":
        raise WildcardFileError(
            "expected a mapping of names to lists of values, or a list of values",
            source=str(path),
            line=root.line,
        )


def _names(item: _Item, path: Path, prefix: str) -> Iterator[tuple[str, list[WildcardEntry]]]:
    for key, value in item.value:
        name = prefix + key
        if value.kind == "map":
            yield from _names(value, path, name + "/")
        elif value.kind == "list":
            yield name, _entries(value, path, name)
        elif value.kind == "text":
            yield name, [_entry(value.value, path, value.line)]


def _entries(item: _Item, path: Path, name: str) -> list[WildcardEntry]:
    entries = []
    for element in item.value:
        if element.kind == "text":
            entries.append(_entry(element.value, path, element.line))
        elif element.kind == "map" and _weighted_table(element):
            fields = dict(element.value)
            text = fields.get("text") or fields["content"]  # _weighted_table saw one of them
            weight = _weight(fields.get("weight"), path, name)
            entries.append(WildcardEntry(text.value, str(path), element.line, weight))
        elif element.kind != "null":
            raise WildcardFileError(
                f"'{name}' holds a {element.kind}: expected text, or a table with "
                "'text' and 'weight'",
                source=str(path),
                line=element.line,
            )
    return entries


def _weighted_table(item: _Item) -> bool:
    fields = dict(item.value)
    text = fields.get("text") or fields.get("content")
    return text is not None and text.kind == "text" and set(fields) <= {"text", "content", "weight"}


def _weight(item: _Item | None, path: Path, name: str) -> float:
    if item is None:
        return 1.0
    try:
        weight = float(item.value)
    except (TypeError, ValueError):
        weight = -1.0
    if weight < 0 or weight != weight:
        raise WildcardFileError(
            f"'{name}' has weight {item.value!r}: expected a number of at least 0",
            source=str(path),
            line=item.line,
        )
    return weight


def _entry(text: str, path: Path, line: int | None) -> WildcardEntry:
    weighted = _WEIGHTED.fullmatch(text)
    if weighted:
        return WildcardEntry(weighted.group(2), str(path), line, float(weighted.group(1)))
    return WildcardEntry(text, str(path), line)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise WildcardFileError(f"cannot read: {error.strerror}", source=str(path)) from error


def _yaml_items(path: Path) -> _Item:
    text = _read(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError as error:
        raise WildcardFileError("nested too deeply", source=str(path)) from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise WildcardFileError(
            f"not valid YAML: {problem}",
            source=str(path),
            line=mark.line + 1 if mark else None,
        ) from error
    return _Item("null", None, 1) if node is None else _from_yaml(node, path, 0)


def _from_yaml(node: yaml.Node, path: Path, depth: int) -> _Item:
    line = node.start_mark.line + 1
    if depth > MAX_NESTING:  # also stops YAML aliases that refer to themselves
        raise WildcardFileError(
            f"nested deeper than {MAX_NESTING} levels", source=str(path), line=line
        )
    if isinstance(node, yaml.MappingNode):
        pairs = [(str(key.value), _from_yaml(value, path, depth + 1)) for key, value in node.value]
        return _Item("map", pairs, line)
    if isinstance(node, yaml.SequenceNode):
        return _Item("list", [_from_yaml(child, path, depth + 1) for child in node.value], line)
    if node.tag == "tag:yaml.org,2002:null":
        return _Item("null", None, line)
    return _Item("text", str(node.value), line)  # the scalar as written: `yes` stays "yes"


def _json_items(path: Path) -> _Item:
    text = _read(path)
    try:
        data = json.loads(text)
    except RecursionError as error:
        raise WildcardFileError("nested too deeply", source=str(path)) from error
    except json.JSONDecodeError as error:
        raise WildcardFileError(
            f"not valid JSON: {error.msg}", source=str(path), line=error.lineno
        ) from error
    return _from_json(data, path, 0)


def _from_json(data: Any, path: Path, depth: int) -> _Item:
    if depth > MAX_NESTING:
        raise WildcardFileError(f"nested deeper than {MAX_NESTING} levels", source=str(path))
    if isinstance(data, dict):
        pairs = [(str(key), _from_json(value, path, depth + 1)) for key, value in data.items()]
        return _Item("map", pairs, None)
    if isinstance(data, list):
        return _Item("list", [_from_json(value, path, depth + 1) for value in data], None)
    if data is None:
        return _Item("null", None, None)
    if isinstance(data, bool):
        return _Item("text", json.dumps(data), None)
    return _Item("text", str(data), None)
