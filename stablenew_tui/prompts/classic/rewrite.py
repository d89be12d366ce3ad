"""A classic prompt and its randomization, rewritten as a template of our own syntax.

Every rule, token and slot becomes a segment, so locks, pins, recorded choices and the
sampling modes apply to it like to any `{…}` or `__…__`:

- a Prompt S/R rule becomes a variant where its search text stood: `{~man|woman}` in
  `random` mode, `{@man|woman}` in `round_robin` mode (prompt n takes value n). Rules apply in
  order, later rules also to the values of earlier ones, as the classic app applied them to
  the text it had so far;
- an inline token stays a wildcard, `__~mood__` or `__@mood__` (`sequential`), whose values
  the randomization defines (see `inline_wildcards`);
- a `[[slot]]` in `fanout` mode becomes a variable assigned at the start of the prompt,
  `${time=!{dawn|noon}}`, used where the slot stood; the prompt is then sampled
  combinatorially, slots varying in the order they are defined, the first slowest, as the
  classic matrix listed its combinations, up to `limit` of them. In `rotate` mode a slot
  becomes a cyclical variant listing its value in each combination, so prompt n takes
  combination n.

A random rule or token used more than once in one prompt is drawn once, as a variable, so
every place shows the same value, as in the classic app.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from stablenew_tui.prompts.classic.randomization import Choices, Kind, Matrix, Randomization

_NOT_NAME = re.compile(r"[^\w-]+")


@dataclass(frozen=True)
class RandomizedPrompt:
    text: str  # a template
    fan_out: bool  # the matrix enumerates: sample this prompt combinatorially
    limit: int  # the most combinations the matrix allows; 0 when it sets no limit


def randomize(text: str, randomization: Randomization) -> RandomizedPrompt:
    if not randomization:
        return RandomizedPrompt(text, False, 0)
    return _Rewrite(randomization).prompt(text)


def inline_wildcards(randomization: Randomization) -> dict[str, tuple[tuple[str, ...], str]]:
    """The tokens a randomization defines: name → (values, the file defining them)."""
    tokens = randomization.tokens
    if tokens is None:
        return {}
    return {token.key: (token.values, tokens.source) for token in tokens.entries}


class _Choice:
    """A rule's variant, inserted where its search text stood."""

    def __init__(self, key: str, options: list[list[_Part]], marker: str) -> None:
        self.key = key
        self.options = options
        self.marker = marker


_Part = str | _Choice


class _Rewrite:
    def __init__(self, randomization: Randomization) -> None:
        self.randomization = randomization
        self.names: set[str] = set()
        self.head: list[str] = []  # assignments, in the order they must be drawn

    def prompt(self, text: str) -> RandomizedPrompt:
        matrix = self.randomization.matrix
        if matrix is not None and matrix.base_prompt:
            text = _with_base(text, matrix)
        slot_head: list[str] = []
        fan_out = False
        if self.randomization.replacements is not None:
            text = self.replace(text, self.randomization.replacements)
        if self.randomization.tokens is not None:
            text = self.tokens(text, self.randomization.tokens)
        if matrix is not None:
            text, fan_out = self.slots(text, matrix, slot_head)
        limit = matrix.limit if matrix is not None and fan_out else 0
        return RandomizedPrompt("".join([*slot_head, *self.head]) + text, fan_out, limit)

    # Prompt S/R ----------------------------------------------------------------------------

    def replace(self, text: str, kind: Kind) -> str:
        marker = "~" if kind.mode == "random" else "@"
        parts = _apply_rules([text], kind.entries, marker)
        uses = [part for part in parts if isinstance(part, _Choice)]
        written: dict[_Choice, str] = {}
        for choice in uses:
            if choice not in written:
                shared = choice.marker == "~" and uses.count(choice) > 1
                variant = _variant(choice)
                written[choice] = self.shared(choice.key, variant) if shared else variant
        return "".join(part if isinstance(part, str) else written[part] for part in parts)

    # Tokens --------------------------------------------------------------------------------

    def tokens(self, text: str, kind: Kind) -> str:
        marker = "~" if kind.mode == "random" else "@"
        for token in kind.entries:
            written = f"__{token.key}__"
            count = text.count(written)
            if count == 0:
                continue
            wildcard = f"__{marker}{token.key}__"
            if marker == "~" and count > 1:
                wildcard = self.shared(token.key, wildcard)
            text = text.replace(written, wildcard)
        return text

    # Matrix --------------------------------------------------------------------------------

    def slots(self, text: str, matrix: Matrix, head: list[str]) -> tuple[str, bool]:
        used = [slot for slot in matrix.entries if f"[[{slot.key}]]" in text]
        if not used:
            return text, False
        if matrix.mode == "fanout":
            for slot in used:
                name = self.name(slot.key)
                head.append(f"${{{name}=!{{{'|'.join(slot.values)}}}}}")
                text = text.replace(f"[[{slot.key}]]", f"${{{name}}}")
            return text, True
        combinations = _combinations(matrix.entries, matrix.limit)
        for position, slot in enumerate(matrix.entries):
            if slot in used:
                values = "|".join(combination[position] for combination in combinations)
                text = text.replace(f"[[{slot.key}]]", f"{{@{values}}}")
        return text, False

    # Shared draws --------------------------------------------------------------------------

    def shared(self, key: str, construct: str) -> str:
        """`construct` drawn once for the prompt: assigned at its start, used here."""
        name = self.name(key)
        self.head.append(f"${{{name}=!{construct}}}")
        return f"${{{name}}}"

    def name(self, key: str) -> str:
        base = _NOT_NAME.sub("_", key).strip("_") or "choice"
        if base[0].isdigit():
            base = "_" + base
        name = base
        for number in itertools.count(2):
            if name not in self.names:
                break
            name = f"{base}_{number}"
        self.names.add(name)
        return name


def _with_base(text: str, matrix: Matrix) -> str:
    if matrix.prompt_mode == "append":
        return f"{text}, {matrix.base_prompt}"
    if matrix.prompt_mode == "prepend":
        return f"{matrix.base_prompt}, {text}"
    return matrix.base_prompt


def _apply_rules(parts: list[_Part], rules: tuple[Choices, ...], marker: str) -> list[_Part]:
    """The rules applied in order to the literal parts; a rule's values see the later rules."""
    for index, rule in enumerate(rules):
        later = rules[index + 1 :]
        choice: _Choice | None = None
        applied: list[_Part] = []
        for part in parts:
            if not isinstance(part, str) or rule.key not in part:
                applied.append(part)
                continue
            if choice is None:
                options = [_apply_rules([value], later, marker) for value in rule.values]
                choice = _Choice(rule.key, options, marker)
            for number, piece in enumerate(part.split(rule.key)):
                if number:
                    applied.append(choice)
                if piece:
                    applied.append(piece)
        parts = applied
    return parts


def _variant(choice: _Choice) -> str:
    options = ("".join(_render(part) for part in option) for option in choice.options)
    return f"{{{choice.marker}{'|'.join(options)}}}"


def _render(part: _Part) -> str:
    return part if isinstance(part, str) else _variant(part)


def _combinations(slots: tuple[Choices, ...], limit: int) -> list[tuple[str, ...]]:
    """Every combination of the slots' values, the first slot slowest, at most `limit`."""
    every = itertools.product(*(slot.values for slot in slots))
    return list(itertools.islice(every, limit or None))
