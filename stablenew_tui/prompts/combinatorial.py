"""Combinatorial enumeration: every combination of a template's choices, lazily, and their count.

Order: the first construct varies slowest; a variant's options, a wildcard's values and pick-N
selections (by count, then lexicographically by option position) follow the order they are
written in. Assignments come first in their sequence, as in Dynamic Prompts, so an immediate
`${v=!…}` varies slowest of all; a deferred `${v=…}` is enumerated at each use. Constructs
marked `~` or `@` do not multiply the count: they stay "pieces" (callables) drawn when each
prompt is rendered, with that prompt's seed and number. Weights play no part here.

Memory stays flat however many combinations there are: the product advances like an odometer,
and only inner positions with few values are remembered for replay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from itertools import permutations
from math import factorial
from typing import Any

from stablenew_tui.prompts import render
from stablenew_tui.prompts.grammar import (
    Assignment,
    Part,
    SamplingMode,
    Sequence,
    VariableUse,
    Variant,
    Wildcard,
)
from stablenew_tui.prompts.render import (
    MAX_DEPTH,
    Draw,
    VariableBinding,
    count_bounds,
    too_deep,
)
from stablenew_tui.prompts.wildcards import WildcardLibrary

Piece = str | Callable[[Draw], str]
COMBINATORIAL = SamplingMode.COMBINATORIAL
_REPLAY_LIMIT = 4096  # values an inner position may remember; larger ones are recomputed
_DONE = object()


class Enumerator:
    """Enumerates and counts constructs against one wildcard library.

    `env` maps variable names to bindings as in `render`; `depth` counts the wildcard and
    variable expansions above the current text.
    """

    def __init__(self, library: WildcardLibrary) -> None:
        self.library = library

    # Counting ----------------------------------------------------------------------------

    def count_sequence(self, sequence: Sequence, env: dict, depth: int) -> int:
        if sequence.literal is not None:
            return 1
        total = 1
        if sequence.assignments:
            env = dict(env)
            for assignment in sequence.assignments:
                if assignment.immediate:
                    total *= self.count_sequence(assignment.value, env, depth)
                    env[assignment.name] = ""  # each use of it stands for one value
                else:
                    env[assignment.name] = assignment.value
        for part in sequence.parts:
            total *= self.count_node(part, env, depth)
        return total

    def count_node(self, node: Part, env: dict, depth: int, only: int | None = None) -> int:
        """How many values `node` enumerates; `only` restricts it to one pinned option."""
        if isinstance(node, str):
            return 1
        if isinstance(node, VariableUse):
            target, depth = self._expansion(node, env, depth)
            return self.count_sequence(target, env, depth) if isinstance(target, Sequence) else 1
        if node.mode not in (None, COMBINATORIAL):
            return 1
        if isinstance(node, Wildcard):
            indexes = range(len(self.library.resolve(node))) if only is None else (only,)
            return sum(self._value_count(node, index, env, depth) for index in indexes)
        if only is not None:
            return self.count_sequence(node.options[only], env, depth)
        if node.count is None:
            return sum(self.count_sequence(option, env, depth) for option in node.options)
        if node.pool is None:
            counts = [self.count_sequence(option, env, depth) for option in node.options]
        else:
            size = len(self.library.resolve(node.pool))
            counts = [self._value_count(node.pool, index, env, depth) for index in range(size)]
        return _ordered_selection_count(counts, *count_bounds(node.count, len(counts)))

    def _value_count(self, wildcard: Wildcard, index: int, env: dict, depth: int) -> int:
        part = self.library.resolve(wildcard).part(index)
        if isinstance(part, str):
            return 1
        if depth >= MAX_DEPTH:
            raise too_deep(wildcard)
        return self.count_sequence(part, env, depth + 1)

    def _expansion(self, use: VariableUse, env: dict, depth: int) -> tuple[VariableBinding, int]:
        """What a variable use stands for (its binding or its default) and the depth to
        expand it at; as in `render`, a default expands like a definition."""
        binding = env.get(use.name)
        if binding is None:
            if use.default is None:
                raise render.unknown_variable(use)
            binding = use.default
        if binding.__class__ is Sequence:
            if depth >= MAX_DEPTH:
                raise too_deep(use)
            return binding, depth + 1
        return binding, depth

    # Enumerating -------------------------------------------------------------------------

    def sequence(self, sequence: Sequence, env: dict, depth: int) -> Iterator[Piece]:
        if sequence.literal is not None:
            yield sequence.literal
            return
        for scope, _ in self.bind(sequence.assignments, env, depth):
            makers: list[Callable[[], Iterator[Any]]] = [
                partial(self.node, part, scope, depth) for part in sequence.parts
            ]
            for pieces in lazy_product(makers):
                yield join_pieces(pieces, "", skip_empty=False)

    def bind(
        self,
        assignments: tuple[Assignment, ...],
        env: dict,
        depth: int,
        locked: tuple[str | None, ...] = (),
    ) -> Iterator[tuple[dict, tuple[Piece, ...]]]:
        """Each combination of the immediate values: the scope it makes, and the values
        ("" for deferred definitions). `locked` fixes some values, position by position."""
        if not assignments:
            yield env, ()
            return
        first, rest = assignments[0], assignments[1:]
        lock, rest_locked = (locked[0], locked[1:]) if locked else (None, ())
        if not first.immediate:
            scope = {**env, first.name: first.value}
            for inner, values in self.bind(rest, scope, depth, rest_locked):
                yield inner, ("", *values)
            return
        pieces = (lock,) if lock is not None else self.sequence(first.value, env, depth)
        for piece in pieces:
            bound = piece if isinstance(piece, str) else _drawn_once(piece)
            for inner, values in self.bind(rest, {**env, first.name: bound}, depth, rest_locked):
                yield inner, (bound, *values)

    def node(self, node: Part, env: dict, depth: int) -> Iterator[Piece]:
        if isinstance(node, str):
            return iter((node,))
        if isinstance(node, VariableUse):
            target, depth = self._expansion(node, env, depth)
            if isinstance(target, Sequence):
                return self.sequence(target, env, depth)
            return iter((target,))
        return (piece for piece, _ in self.choices(node, env, depth))

    def choices(
        self, node: Variant | Wildcard, env: dict, depth: int, only: int | None = None
    ) -> Iterator[tuple[Piece, tuple[int, ...]]]:
        """Each value of a variant or wildcard with the option positions it came from."""
        if node.mode not in (None, COMBINATORIAL):
            renderer = (
                render.render_variant if isinstance(node, Variant) else render.render_wildcard
            )
            return iter(((_deferred(renderer, node, node.mode, depth, env), ()),))
        if isinstance(node, Wildcard):
            indexes = range(len(self.library.resolve(node))) if only is None else (only,)
            return (
                (piece, (index,))
                for index in indexes
                for piece in self._value(node, index, env, depth)
            )
        if only is None and node.count is not None:
            return self._pick(node, env, depth)
        indexes = range(len(node.options)) if only is None else (only,)
        return (
            (piece, (index,))
            for index in indexes
            for piece in self.sequence(node.options[index], env, depth)
        )

    def _value(self, wildcard: Wildcard, index: int, env: dict, depth: int) -> Iterator[Piece]:
        part = self.library.resolve(wildcard).part(index)
        if isinstance(part, str):
            return iter((part,))
        if depth >= MAX_DEPTH:
            raise too_deep(wildcard)
        return self.sequence(part, env, depth + 1)

    def _option(self, variant: Variant, env: dict, depth: int, index: int) -> Iterator[Piece]:
        return self.sequence(variant.options[index], env, depth)

    def _pick(
        self, variant: Variant, env: dict, depth: int
    ) -> Iterator[tuple[Piece, tuple[int, ...]]]:
        pool, count = variant.pool, variant.count
        assert count is not None, "_pick() is for pick-N variants"
        option: Callable[[int], Iterator[Piece]]
        if pool is None:
            size = len(variant.options)
            option = partial(self._option, variant, env, depth)
        else:
            size = len(self.library.resolve(pool))
            option = partial(self._value, pool, env=env, depth=depth)
        low, high = count_bounds(count, size)
        for wanted in range(low, high + 1):
            for chosen in permutations(range(size), wanted):
                makers: list[Callable[[], Iterator[Any]]] = [
                    partial(option, index) for index in chosen
                ]
                for pieces in lazy_product(makers):
                    yield join_pieces(pieces, variant.separator, skip_empty=True), chosen


def lazy_product(makers: list[Callable[[], Iterator]]) -> Iterator[tuple]:
    """The cartesian product of fresh iterators from `makers`, first one slowest, lazily."""
    count = len(makers)
    if count == 0:
        yield ()
        return
    makers = [makers[0], *(_Replay(maker) for maker in makers[1:])]
    iterators = [makers[0]()]
    values: list = [None] * count
    last = count - 1
    while iterators:
        position = len(iterators) - 1
        value = next(iterators[position], _DONE)
        if value is _DONE:
            iterators.pop()
            continue
        values[position] = value
        if position < last:
            iterators.append(makers[position + 1]())
            continue
        yield tuple(values)
        for value in iterators[position]:  # the fastest position, without the bookkeeping
            values[position] = value
            yield tuple(values)
        iterators.pop()


class _Replay:
    """Makes fresh iterators like `make`, replaying the first full pass when it was short."""

    __slots__ = ("make", "values")

    def __init__(self, make: Callable[[], Iterator]) -> None:
        self.make = make
        self.values: tuple | None = None

    def __call__(self) -> Iterator:
        if self.values is not None:
            return iter(self.values)
        return self._record()

    def _record(self) -> Iterator:
        seen: list | None = []
        for value in self.make():
            if seen is not None:
                seen.append(value)
                if len(seen) > _REPLAY_LIMIT:
                    seen = None
            yield value
        if seen is not None:
            self.values = tuple(seen)


def join_pieces(pieces: tuple, separator: str, skip_empty: bool) -> Piece:
    """The pieces joined: text when all are text, else a piece that joins them when drawn."""
    if all(piece.__class__ is str for piece in pieces):
        return separator.join([p for p in pieces if p] if skip_empty else pieces)

    def joined(draw: Draw) -> str:
        texts = [piece if piece.__class__ is str else piece(draw) for piece in pieces]
        return separator.join([text for text in texts if text] if skip_empty else texts)

    return joined


def _deferred(
    renderer: Callable[[Any, Draw, SamplingMode, int], str],
    node: Variant | Wildcard,
    mode: SamplingMode,
    depth: int,
    env: dict,
) -> Piece:
    """A piece drawn at render time, in the scope the enumeration had reached."""

    def piece(draw: Draw) -> str:
        saved = draw.variables
        draw.variables = env
        try:
            return renderer(node, draw, mode, depth)
        finally:
            draw.variables = saved

    return piece


def _drawn_once(piece: Callable[[Draw], str]) -> Callable[[Draw], str]:
    """An immediate variable's value: drawn at its first use in a prompt, then reused."""

    def once(draw: Draw) -> str:
        text = draw.memo.get(once)
        if text is None:
            text = draw.memo[once] = piece(draw)
        return text

    return once


def _ordered_selection_count(counts: list[int], low: int, high: int) -> int:
    """How many ordered selections of `low`..`high` distinct options there are, each option
    contributing its own count: the sum over k of k! times the k-th elementary symmetric sum."""
    elementary = [1] + [0] * high
    for count in counts:
        for k in range(high, 0, -1):
            elementary[k] += elementary[k - 1] * count
    return sum(factorial(k) * elementary[k] for k in range(low, high + 1))
