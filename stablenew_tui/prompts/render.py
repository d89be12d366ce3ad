"""Drawing text from parsed constructs in random and cyclical modes.

Random draws come from a `PromptRandom` (see `rng`) seeded afresh for each prompt with the
prompt seed, so a prompt depends only on its template, its seed and its number, on every
machine. Cyclical draws take option `number % size` of every construct. A pick-N construct
draws a count in its range, then that many distinct options (weighted without replacement),
and joins the non-empty ones.

Variable bindings are `str` (an immediate value), `Sequence` (a deferred definition, drawn
again at each use) or a callable taking the `Draw` (a value left for later by combinatorial
enumeration).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from itertools import pairwise
from math import perm
from typing import Any, cast

from stablenew_tui.prompts.errors import TemplateError
from stablenew_tui.prompts.grammar import (
    Assignment,
    SamplingMode,
    Sequence,
    VariableUse,
    Variant,
    Wildcard,
)
from stablenew_tui.prompts.rng import PromptRandom
from stablenew_tui.prompts.wildcards import WildcardLibrary, WildcardValues

# A wildcard or variable may expand inside another this many times; more means it includes
# itself, directly or through others.
MAX_DEPTH = 32
CYCLICAL = SamplingMode.CYCLICAL
# What a variable name is bound to while drawing (see the module docstring).
VariableBinding = str | Sequence | Callable[["Draw"], str]


class Draw:
    """The state of drawing one prompt: its random source, number and variables.

    One `Draw` serves a whole run, restarted (and reseeded) for each prompt. `random` stays
    the same bound method throughout, so callers may hold on to it.
    """

    __slots__ = ("_generator", "library", "memo", "number", "random", "seed", "variables")

    def __init__(self, library: WildcardLibrary) -> None:
        self.library = library
        self._generator = PromptRandom()
        self.random = self._generator.random
        self.seed = 0
        self.number = 0
        self.variables: dict[str, VariableBinding] = {}
        self.memo: dict = {}

    def start(self, seed: int, number: int) -> None:
        """Begin prompt `number`, drawn from `seed`."""
        self.seed = seed
        self.number = number
        self._generator.seed(seed)

    def segment(self, index: int) -> None:
        """Draw top-level segment `index` from its own substream of the prompt's seed, so a
        held segment (which draws nothing) never shifts what the others draw."""
        self._generator.stream(index)


def too_deep(node: Wildcard | VariableUse) -> TemplateError:
    what = (
        f"wildcard '__{node.name}__'" if isinstance(node, Wildcard) else f"variable '{node.name}'"
    )
    return node.origin.error(
        f"{what} nests deeper than {MAX_DEPTH} levels: expected no wildcard or variable to "
        "include itself",
        node.offset,
    )


def unknown_variable(use: VariableUse) -> TemplateError:
    return use.origin.error(
        f"unknown variable '{use.name}': expected an assignment such as ${{{use.name}=…}} "
        f"before it, or a default such as ${{{use.name}:…}}",
        use.offset,
    )


def render_sequence(sequence: Sequence, draw: Draw, mode: SamplingMode, depth: int) -> str:
    if sequence.literal is not None:
        return sequence.literal
    if not sequence.assignments:
        return _join_parts(sequence.parts, draw, mode, depth)
    saved = draw.variables
    draw.variables = bind(sequence.assignments, draw, mode, depth, dict(saved))
    try:
        return _join_parts(sequence.parts, draw, mode, depth)
    finally:
        draw.variables = saved


def _join_parts(parts: tuple, draw: Draw, mode: SamplingMode, depth: int) -> str:
    return "".join(
        [
            part if part.__class__ is str else _RENDERERS[part.__class__](part, draw, mode, depth)
            for part in parts
        ]
    )


def bind(
    assignments: tuple[Assignment, ...],
    draw: Draw,
    mode: SamplingMode,
    depth: int,
    into: dict[str, VariableBinding],
) -> dict[str, VariableBinding]:
    """`into` with the assignments bound in order; immediate values see the earlier ones."""
    saved = draw.variables
    draw.variables = into
    try:
        for assignment in assignments:
            if assignment.immediate:
                into[assignment.name] = render_sequence(assignment.value, draw, mode, depth)
            else:
                into[assignment.name] = assignment.value
    finally:
        draw.variables = saved
    return into


def choose_option(variant: Variant, draw: Draw, mode: SamplingMode) -> int:
    return _choose(len(variant.options), variant.cumulative_weights, draw, mode)


def render_option(variant: Variant, index: int, draw: Draw, mode: SamplingMode, depth: int) -> str:
    if variant.literals is not None:
        return variant.literals[index]
    return render_sequence(variant.options[index], draw, mode, depth)


def render_variant(variant: Variant, draw: Draw, mode: SamplingMode, depth: int) -> str:
    mode = variant.mode or mode
    if variant.count is not None:
        return pick(variant, draw, mode, depth)[0]
    return render_option(variant, choose_option(variant, draw, mode), draw, mode, depth)


def pick(
    variant: Variant, draw: Draw, mode: SamplingMode, depth: int
) -> tuple[str, tuple[int, ...]]:
    """A pick-N variant's text and the options it picked, in order."""
    pool, count = variant.pool, variant.count
    assert count is not None, "pick() is for pick-N variants"
    if pool is None:
        size, cumulative = len(variant.options), variant.cumulative_weights
    else:
        values = draw.library.resolve(pool)
        size, cumulative = len(values), values.cumulative_weights
    chosen = choose_selection(size, cumulative, count, draw, mode)
    if pool is None:
        texts = [render_option(variant, index, draw, mode, depth) for index in chosen]
    else:
        texts = [render_value(values, index, pool, draw, mode, depth) for index in chosen]
    return variant.separator.join([text for text in texts if text]), chosen


def count_bounds(count: tuple[int | None, int | None], size: int) -> tuple[int, int]:
    """The pick-N range clamped to the options there are; missing bounds are 1 and all."""
    low, high = count
    high = size if high is None else min(high, size)
    low = min(1 if low is None else low, high)
    return low, high


def choose_selection(
    size: int,
    cumulative: tuple[float, ...] | None,
    count: tuple[int | None, int | None],
    draw: Draw,
    mode: SamplingMode,
) -> tuple[int, ...]:
    low, high = count_bounds(count, size)
    if mode is CYCLICAL:
        return nth_selection(size, low, high, draw.number)
    random = draw.random
    wanted = low + int(random() * (high - low + 1))
    if cumulative is None:
        pool = list(range(size))
        for position in range(wanted):  # a partial Fisher-Yates shuffle
            other = position + int(random() * (size - position))
            pool[position], pool[other] = pool[other], pool[position]
        return tuple(pool[:wanted])
    weights = own_weights(cumulative)
    available = [index for index in range(size) if weights[index] > 0]
    chosen = []
    for _ in range(min(wanted, len(available))):
        target = random() * sum(weights[index] for index in available)
        for position, index in enumerate(available):  # noqa: B007 - used after the loop
            target -= weights[index]
            if target < 0:
                break
        chosen.append(available.pop(position))
    return tuple(chosen)


def own_weights(cumulative: tuple[float, ...]) -> list[float]:
    """Each option's weight, from the running totals the parser keeps."""
    return [cumulative[0]] + [b - a for a, b in pairwise(cumulative)]


def nth_selection(size: int, low: int, high: int, number: int) -> tuple[int, ...]:
    """Selection `number` (modulo their count) in combinatorial order: by count, then
    lexicographically by option position."""
    rank = number % sum(perm(size, k) for k in range(low, high + 1))
    for wanted in range(low, high + 1):
        if rank < perm(size, wanted):
            break
        rank -= perm(size, wanted)
    pool = list(range(size))
    chosen = []
    for position in range(wanted):
        block = perm(size - position - 1, wanted - position - 1)
        choice, rank = divmod(rank, block)
        chosen.append(pool.pop(choice))
    return tuple(chosen)


def choose_value(values: WildcardValues, draw: Draw, mode: SamplingMode) -> int:
    return _choose(len(values.texts), values.cumulative_weights, draw, mode)


def _choose(size: int, cumulative: tuple[float, ...] | None, draw: Draw, mode: SamplingMode) -> int:
    """Position of one of `size` options: in turn (cyclical), uniform, or by weight."""
    if mode is CYCLICAL:
        return draw.number % size
    if cumulative is None:
        return int(draw.random() * size)
    return min(bisect_right(cumulative, draw.random() * cumulative[-1]), size - 1)


def render_value(
    values: WildcardValues,
    index: int,
    wildcard: Wildcard,
    draw: Draw,
    mode: SamplingMode,
    depth: int,
) -> str:
    part = values.part(index)
    if type(part) is str:
        return part
    if depth >= MAX_DEPTH:
        raise too_deep(wildcard)
    return render_sequence(cast(Sequence, part), draw, mode, depth + 1)


def render_wildcard(wildcard: Wildcard, draw: Draw, mode: SamplingMode, depth: int) -> str:
    mode = wildcard.mode or mode
    values = draw.library.resolve(wildcard)
    return render_value(values, choose_value(values, draw, mode), wildcard, draw, mode, depth)


def render_use(use: VariableUse, draw: Draw, mode: SamplingMode, depth: int) -> str:
    binding = draw.variables.get(use.name)
    if binding is None:
        if use.default is None:
            raise unknown_variable(use)
        binding = use.default  # expanded like a definition: `${v:${v}}` includes itself
    if isinstance(binding, str):
        return binding
    if depth >= MAX_DEPTH:
        raise too_deep(use)
    if isinstance(binding, Sequence):
        return render_sequence(binding, draw, mode, depth + 1)
    return binding(draw)


# The renderer of each construct; each takes its own node type.
_RENDERERS: dict[type, Callable[[Any, Draw, SamplingMode, int], str]] = {
    Variant: render_variant,
    Wildcard: render_wildcard,
    VariableUse: render_use,
}
