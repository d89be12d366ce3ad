"""The template grammar: prompt text in, a tree of literal text and randomized constructs out.

Constructs (see the prompt syntax design note): `{a|b}` variants with optional `N::` weights,
`{N$$…}` / `{N-M$$sep$$…}` pick-N counts and `~` / `@` sampling overrides; `__name__`
wildcards (globs with `*` and `**`); `${v=value}`, `${v=!value}`, `${v}`, `${v:default}`
variables. Everything else is literal text and is kept byte for byte, so WebUI syntax such as
`(word:1.2)`, `[a|b]`, `<lora:x:0.8>` and `BREAK` passes through untouched; inside a variant,
a `|` within square brackets is WebUI alternation, not an option break. A stray `}` or `|`
outside a variant is literal too, and so is a `__` that does not start a name ending in `__`
on the same line (names neither start nor end with a space).

Literal parts are plain `str` objects inside a `Sequence`, which keeps sampling fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from itertools import accumulate

from stablenew_tui.prompts.errors import Origin

# Deeper nesting than this is refused: it is never intended, and it bounds recursion.
MAX_NESTING = 32


class SamplingMode(StrEnum):
    RANDOM = "random"
    COMBINATORIAL = "combinatorial"
    CYCLICAL = "cyclical"
    LEARNED = "learned"  # random, but top-level segments favour well-rated options (learned.py)


_MODE_MARKERS = {"~": SamplingMode.RANDOM, "@": SamplingMode.CYCLICAL}


@dataclass(frozen=True, slots=True)
class Sequence:
    """Text made of parts; assignments are evaluated before the parts, as Dynamic Prompts does."""

    parts: tuple[Part, ...]
    assignments: tuple[Assignment, ...] = ()
    literal: str | None = None  # the whole text when it holds no construct at all


@dataclass(frozen=True, slots=True)
class Variant:
    options: tuple[Sequence, ...]
    cumulative_weights: tuple[float, ...] | None  # None when every weight is equal
    count: tuple[int | None, int | None] | None  # pick-N bounds; None picks one option
    separator: str
    mode: SamplingMode | None
    literals: tuple[str, ...] | None  # option texts when no option holds a construct
    pool: Wildcard | None  # `{2$$__name__}` picks among the wildcard's values
    origin: Origin
    offset: int


@dataclass(frozen=True, slots=True)
class Wildcard:
    name: str
    mode: SamplingMode | None
    origin: Origin
    offset: int


@dataclass(frozen=True, slots=True)
class Assignment:
    name: str
    value: Sequence
    immediate: bool
    origin: Origin
    offset: int


@dataclass(frozen=True, slots=True)
class VariableUse:
    name: str
    default: Sequence | None
    origin: Origin
    offset: int


Node = str | Variant | Wildcard | Assignment | VariableUse
Part = str | Variant | Wildcard | VariableUse  # what a Sequence holds besides its assignments

_TOP_LEVEL_STOPS = re.compile(r"\{|__|\$\{")
_OPTION_STOPS = re.compile(r"[{|}\[\]]|__|\$\{")
_VALUE_STOPS = re.compile(r"[{}]|__|\$\{")
# A name neither starts nor ends with a space, so prose with a stray `__` stays literal.
_WILDCARD = re.compile(r"__([~@]?)(|[^\s{}|$]|[^\s{}|$][^\n{}|$]*?[^\s{}|$])__")
_VARIABLE = re.compile(r"\$\{\s*([A-Za-z_-][\w-]*)\s*(=!?|:|\})")
_COUNT = re.compile(r"(?:(\d+)-(\d*)|-(\d+)|(\d+))\$\$")
_SEPARATOR = re.compile(r"([^${}]*)\$\$")
_WEIGHT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)::")
_DRIVE = re.compile(r"[A-Za-z]:")


def has_constructs(text: str) -> bool:
    """Whether `text` may hold a construct; text without one is its own literal."""
    return "{" in text or "__" in text or "${" in text


def wildcard_name_problem(name: str) -> str | None:
    """Why `name` may not be used as a wildcard name, or None when it may."""
    if not name.strip():
        return "empty wildcard name: expected a name between '__' and '__'"
    if name.startswith("/") or "\\" in name or _DRIVE.match(name) or ".." in name.split("/"):
        return (
            f"wildcard name '{name}' leaves the wildcard folders: expected a name relative to "
            "them, without '..', '\\' or a leading '/'"
        )
    return None


def parse_sequence(text: str, origin: Origin) -> Sequence:
    """Parse `text` (one wildcard value, say) into a `Sequence`."""
    return _sequence(parse_spans(text, origin))


def parse_spans(text: str, origin: Origin) -> list[tuple[Node, int, int]]:
    """The top-level parts of `text` with their start and end offsets."""
    if not has_constructs(text):
        return [(text, 0, len(text))] if text else []
    return _Parser(origin).parts(0, _TOP_LEVEL_STOPS, 0)[0]


def _sequence(spans: list[tuple[Node, int, int]]) -> Sequence:
    parts = tuple(node for node, _, _ in spans if not isinstance(node, Assignment))
    assignments = tuple(node for node, _, _ in spans if isinstance(node, Assignment))
    literal = None
    if not assignments and all(isinstance(part, str) for part in parts):
        literal = "".join(parts)  # type: ignore[arg-type]
    return Sequence(parts, assignments, literal)


class _Parser:
    """Recursive descent over one text; every method returns the offset where it stopped."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.text = origin.text

    def parts(self, pos: int, stops: re.Pattern, depth: int) -> tuple[list, int]:
        """Parts up to the end of the text or a stop character (`|`, `}`) left unconsumed."""
        text = self.text
        spans: list[tuple[Node, int, int]] = []
        literal_start = pos  # text from here to `pos` is literal and not yet in `spans`
        brackets = 0  # open `[` in this option: a `|` inside is WebUI alternation
        while True:
            found = stops.search(text, pos)
            token = found.group() if found else ""
            if token == "[":
                brackets += 1
            elif token == "]":
                brackets = max(brackets - 1, 0)
            if token in ("[", "]") or (token == "|" and brackets):
                pos = found.end()  # type: ignore[union-attr]
                continue
            if found is None or token in ("|", "}"):
                pos = found.start() if found else len(text)
                break
            start = found.start()
            node, end = self.construct(found.group(), start, depth)
            if node is not None:
                if start > literal_start:
                    spans.append((text[literal_start:start], literal_start, start))
                spans.append((node, start, end))
                literal_start = end
            pos = end
        if pos > literal_start:
            spans.append((text[literal_start:pos], literal_start, pos))
        return spans, pos

    def construct(self, token: str, start: int, depth: int) -> tuple[Node | None, int]:
        if depth >= MAX_NESTING:
            raise self.origin.error(
                f"nesting deeper than {MAX_NESTING} levels: expected fewer nested constructs",
                start,
            )
        if token == "{":
            return self.variant(start, depth + 1)
        if token == "${":
            return self.variable(start, depth + 1)
        return self.wildcard(start)

    def wildcard(self, start: int) -> tuple[Node | None, int]:
        found = _WILDCARD.match(self.text, start)
        if found is None:
            return None, start + 2  # a lone `__` is literal text
        problem = wildcard_name_problem(found.group(2))
        if problem:
            raise self.origin.error(problem, start)
        mode = _MODE_MARKERS.get(found.group(1))
        return Wildcard(found.group(2), mode, self.origin, start), found.end()

    def variable(self, start: int, depth: int) -> tuple[Node, int]:
        found = _VARIABLE.match(self.text, start)
        if found is None:
            raise self.origin.error(
                "expected a variable name (letters, digits, '_' or '-') after '${', "
                "then '=', ':' or '}'",
                start,
            )
        name, operator = found.group(1), found.group(2)
        if operator == "}":
            return VariableUse(name, None, self.origin, start), found.end()
        spans, pos = self.parts(found.end(), _VALUE_STOPS, depth)
        if pos >= len(self.text):
            raise self.origin.error("unbalanced '${': expected '}' to close it", start)
        value = _sequence(spans)
        if operator == ":":
            return VariableUse(name, value, self.origin, start), pos + 1
        return Assignment(name, value, operator == "=!", self.origin, start), pos + 1

    def variant(self, start: int, depth: int) -> tuple[Node, int]:
        text = self.text
        pos = start + 1
        mode = _MODE_MARKERS.get(text[pos : pos + 1])
        if mode is not None:
            pos += 1
        count, separator, pos = self.count(pos)
        options: list[Sequence] = []
        weights: list[float] = []
        while True:
            weight = _WEIGHT.match(text, pos)
            if weight:
                pos = weight.end()
            spans, pos = self.parts(pos, _OPTION_STOPS, depth)
            if pos >= len(text):
                raise self.origin.error("unbalanced '{': expected '}' to close it", start)
            options.append(_sequence(spans))
            weights.append(float(weight.group(1)) if weight else 1.0)
            pos += 1
            if text[pos - 1] == "}":
                break
        if not any(weights):
            raise self.origin.error(
                "every option has weight 0: expected at least one weight above 0", start
            )
        literals = tuple(option.literal for option in options)
        pool = _lone_wildcard(options) if count is not None else None
        node = Variant(
            options=tuple(options),
            cumulative_weights=tuple(accumulate(weights)) if len(set(weights)) > 1 else None,
            count=count,
            separator=separator,
            mode=mode or (pool.mode if pool else None),  # `{2$$__~name__}` is random as a whole
            literals=None if None in literals else literals,  # type: ignore[arg-type]
            pool=pool,
            origin=self.origin,
            offset=start,
        )
        return node, pos

    def count(self, pos: int) -> tuple[tuple[int | None, int | None] | None, str, int]:
        found = _COUNT.match(self.text, pos)
        if found is None:
            return None, ",", pos
        low_text, high_text, only_high, exact = found.groups()
        low: int | None
        high: int | None
        if exact is not None:
            low = high = int(exact)
        else:
            low = int(low_text) if low_text else None
            high = int(high_text or only_high) if (high_text or only_high) else None
        if low is not None and high is not None and low > high:
            raise self.origin.error(
                f"count range {low}-{high}: expected the minimum ({low}) to be at most "
                f"the maximum ({high})",
                pos,
            )
        separator = _SEPARATOR.match(self.text, found.end())
        if separator is None:
            return (low, high), ",", found.end()
        return (low, high), separator.group(1), separator.end()


def _lone_wildcard(options: list[Sequence]) -> Wildcard | None:
    if len(options) == 1 and not options[0].assignments and len(options[0].parts) == 1:
        part = options[0].parts[0]
        if isinstance(part, Wildcard):
            return part
    return None
