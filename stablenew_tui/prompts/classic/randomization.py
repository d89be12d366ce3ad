"""The `randomization` block of a classic StableNew file, read into plain data.

Three kinds, each with its own mode, each on only when the block and the kind say `enabled`
(in our own packs `enabled` may be left out and means on):

- `prompt_sr`: Prompt S/R rules, `search => a | b | c`; `random` or `round_robin`.
- `wildcards`: tokens defined inline, `__mood__: happy | sad` (the underscores are optional);
  `random` or `sequential`.
- `matrix`: `[[slot]]` slots, `time: dawn | dusk`; `fanout` makes every combination up to
  `limit` (0: no limit), `rotate` one combination per prompt; `base_prompt` with
  `prompt_mode` `replace`, `append` or `prepend` stands in for (or joins) each prompt.

Rules, tokens and slots are lists of objects (`{"search": …, "replacements": […]}`,
`{"token": …, "values": […]}`, `{"name": …, "values": […]}`) or of lines as above; the
`raw_text` the classic editor keeps wins for `prompt_sr` and `wildcards`, as it did there.
Lines that are blank or start with `#` are skipped; a line without its separator is skipped
with a warning, as the classic app skipped it silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from stablenew_tui.errors import InputError
from stablenew_tui.prompts.key_lines import KeyLines

SR_MODES = ("random", "round_robin")
TOKEN_MODES = ("random", "sequential")
MATRIX_MODES = ("fanout", "rotate")
PROMPT_MODES = ("replace", "append", "prepend")
_OUTSIDE_BRACKETS_BAR = re.compile(r"\|(?![^\[]*\])")


@dataclass(frozen=True)
class Choices:
    """One rule, token or slot: what it stands for and the values it takes."""

    key: str  # the search text, the token's name without underscores, or the slot's name
    values: tuple[str, ...]


@dataclass(frozen=True)
class Kind:
    """One kind of randomization as a file set it."""

    entries: tuple[Choices, ...]
    mode: str
    source: str  # the file, for messages and for the values' wildcard entries


@dataclass(frozen=True)
class Matrix(Kind):
    limit: int = 0
    base_prompt: str = ""
    prompt_mode: str = "replace"


@dataclass(frozen=True)
class Randomization:
    """What a file asks for; a kind it leaves off is None."""

    replacements: Kind | None = None
    tokens: Kind | None = None
    matrix: Matrix | None = None
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def over(self, lower: Randomization) -> Randomization:
        """Each kind set here wins over the same kind in `lower` (a preset, say)."""
        return Randomization(
            self.replacements or lower.replacements,
            self.tokens or lower.tokens,
            self.matrix or lower.matrix,
        )

    def __bool__(self) -> bool:
        return bool(self.replacements or self.tokens or self.matrix)


def read_randomization(block: Any, lines: KeyLines, *, enabled_by_default: bool) -> Randomization:
    """The kinds `block` turns on. Wrong types and unknown modes are errors at their line."""
    reader = _Reader(lines, enabled_by_default)
    if not isinstance(block, dict):
        raise lines.error("randomization: expected an object", lines.of_key("randomization"))
    if not reader.enabled(block, "randomization"):
        return Randomization()
    return Randomization(
        reader.kind(block, "prompt_sr", "rules", SR_MODES, ("search", "replacements"), "=>"),
        reader.kind(block, "wildcards", "tokens", TOKEN_MODES, ("token", "values"), ":"),
        reader.matrix(block),
        tuple(reader.warnings),
    )


class _Reader:
    def __init__(self, lines: KeyLines, enabled_by_default: bool) -> None:
        self.lines = lines
        self.enabled_by_default = enabled_by_default
        self.warnings: list[str] = []
        self.top = lines.of_key("randomization")

    def line(self, *keys: str) -> int:
        line = self.top
        for key in keys:
            line = self.lines.of_key(key, line)
        return line

    def error(self, where: str, message: str, *keys: str) -> InputError:
        return self.lines.error(f"randomization.{where}: {message}", self.line(*keys))

    def enabled(self, table: dict, where: str) -> bool:
        value = table.get("enabled", self.enabled_by_default)
        if not isinstance(value, bool):
            raise self.lines.error(f"{where}.enabled: expected true or false", self.line())
        return value

    def section(self, block: dict, name: str) -> dict | None:
        table = block.get(name)
        if table is None:
            return None
        if not isinstance(table, dict):
            raise self.error(name, "expected an object", name)
        return table if self.enabled(table, f"randomization.{name}") else None

    def one_of(self, table: dict, name: str, key: str, allowed: tuple[str, ...]) -> str:
        value = table.get(key, allowed[0])
        if not isinstance(value, str) or value.lower() not in allowed:
            raise self.error(
                f"{name}.{key}", f"{value!r}: expected {' or '.join(allowed)}", name, key
            )
        return value.lower()

    def kind(
        self,
        block: dict,
        name: str,
        list_key: str,
        modes: tuple[str, ...],
        fields: tuple[str, str],
        separator: str,
    ) -> Kind | None:
        table = self.section(block, name)
        if table is None:
            return None
        raw = table.get("raw_text")
        entries = self.entries(name, list_key, table.get(list_key), fields, separator)
        if isinstance(raw, str) and raw.strip():
            entries = self.from_lines(name, "raw_text", raw.splitlines(), separator)
        if not entries:
            return None
        return Kind(entries, self.one_of(table, name, "mode", modes), str(self.lines.path))

    def matrix(self, block: dict) -> Matrix | None:
        table = self.section(block, "matrix")
        if table is None:
            return None
        entries = self.entries("matrix", "slots", table.get("slots"), ("name", "values"), ":")
        raw = table.get("raw_text")
        if not entries and isinstance(raw, str):
            entries = self.from_lines("matrix", "raw_text", raw.splitlines(), ":")
        limit = table.get("limit", 0)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise self.error("matrix.limit", f"{limit!r}: expected a whole number, 0 or more",
                             "matrix", "limit")  # fmt: skip
        base = table.get("base_prompt", "")
        if not isinstance(base, str):
            raise self.error("matrix.base_prompt", "expected text", "matrix", "base_prompt")
        prompt_mode = self.one_of(table, "matrix", "prompt_mode", PROMPT_MODES)
        mode = self.one_of(table, "matrix", "mode", MATRIX_MODES)
        if not entries:
            return None
        return Matrix(entries, mode, str(self.lines.path), limit, base.strip(), prompt_mode)

    def entries(
        self, name: str, list_key: str, items: Any, fields: tuple[str, str], separator: str
    ) -> tuple[Choices, ...]:
        if items is None:
            return ()
        if not isinstance(items, list):
            raise self.error(f"{name}.{list_key}", "expected a list", name, list_key)
        key_field, values_field = fields
        found: list[Choices] = []
        for item in items:
            if isinstance(item, str):
                found.extend(self.from_lines(name, list_key, [item], separator))
                continue
            key, values = (item.get(key_field), item.get(values_field)) if isinstance(
                item, dict) else (None, None)  # fmt: skip
            if (
                not isinstance(key, str)
                or not isinstance(values, list)
                or not all(isinstance(value, str) for value in values)
            ):
                raise self.error(
                    f"{name}.{list_key}",
                    f"expected lines 'key {separator} a | b' or objects with "
                    f"'{key_field}' and a list of texts '{values_field}'",
                    name, list_key,
                )  # fmt: skip
            found.append(self.choices(name, list_key, key, values, separator))
        return tuple(choice for choice in found if choice.values)

    def from_lines(
        self, name: str, list_key: str, texts: list[str], separator: str
    ) -> tuple[Choices, ...]:
        found = []
        for text in texts:
            line = text.strip()
            if not line or line.startswith("#"):
                continue
            key, found_separator, values = line.partition(separator)
            if not found_separator or not key.strip():
                self.warnings.append(
                    f"{self.lines.path}:{self.line(name, list_key)}: randomization.{name}: "
                    f"skipped {line!r}: expected 'key {separator} a | b'"
                )
                continue
            found.append(self.choices(name, list_key, key, values.split("|"), separator))
        return tuple(found)

    def choices(
        self, name: str, list_key: str, key: str, values: list[str], separator: str
    ) -> Choices:
        key = key.strip()
        if name == "wildcards":
            key = key.strip("_")
        kept = tuple(value.strip() for value in values if value.strip())
        for value in kept:
            if _OUTSIDE_BRACKETS_BAR.search(value) or "{" in value or "}" in value:
                raise self.error(
                    f"{name}.{list_key}",
                    f"value {value!r} of {key!r} holds '{{', '}}' or '|': write one value "
                    "per list item, without braces",
                    name, list_key,
                )  # fmt: skip
        return Choices(key, kept)
