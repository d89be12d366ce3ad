"""Sampling prompts from a parsed template: random, combinatorial or cyclical, honouring locks.

Every prompt comes with what the pipeline records about it: each randomized segment's resolved
text and the option positions it came from, the locks in effect, the mode and the prompt seed.

Seeds: prompt `n` of a run is drawn with its own seed, so one prompt can be drawn again alone.
When prompt and image seeds are linked, the prompt seed is the image seed itself; when the
user unlinks them, any other integer will do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple, cast

from stablenew_tui.prompts.combinatorial import Enumerator, Piece, lazy_product
from stablenew_tui.prompts.errors import LockError, TemplateError
from stablenew_tui.prompts.grammar import (
    Assignment,
    SamplingMode,
    Sequence,
    VariableUse,
    Variant,
    Wildcard,
    has_constructs,
)
from stablenew_tui.prompts.learned import LearnedDraw, TemplateBeliefs
from stablenew_tui.prompts.locks import SegmentLocks
from stablenew_tui.prompts.render import (
    Draw,
    choose_option,
    choose_value,
    own_weights,
    pick,
    render_option,
    render_sequence,
    render_use,
    render_value,
)
from stablenew_tui.prompts.template import Template
from stablenew_tui.prompts.wildcards import WildcardLibrary

RANDOM = SamplingMode.RANDOM
COMBINATORIAL = SamplingMode.COMBINATORIAL
LEARNED = SamplingMode.LEARNED
# Builds a SegmentChoice without NamedTuple's Python-level __new__, twice as fast.
_new_tuple = tuple.__new__


class SegmentChoice(NamedTuple):
    segment: int  # the segment's 1-based index
    text: str  # what it resolved to (an immediate assignment: the variable's value)
    options: tuple[int, ...]  # positions of the options or wildcard values it took; () if locked


@dataclass(slots=True)  # read-only by convention: freezing would cost more than a draw
class ResolvedPrompt:
    text: str
    choices: tuple[SegmentChoice, ...]  # one per randomized segment, in index order
    locks: SegmentLocks
    mode: SamplingMode
    prompt_seed: int
    number: int  # position in the run; cyclical segments take option `number % size`
    template: Template

    def choice_texts(self) -> dict[int, str]:
        return {choice.segment: choice.text for choice in self.choices}

    def to_record(self) -> dict[str, Any]:
        """JSON-ready: the prompt, its template and seed, each segment's choice, the locks."""
        segments = self.template.randomized
        return {
            "prompt": self.text,
            "template": self.template.text,
            "mode": self.mode.value,
            "prompt_seed": self.prompt_seed,
            "number": self.number,
            "choices": [
                {
                    "index": choice.segment,
                    "source": segments[choice.segment - 1].source,
                    "text": choice.text,
                    "options": list(choice.options),
                }
                for choice in self.choices
            ],
            **self.locks.to_dict(),
        }


@contextmanager
def _nesting_guard(template: Template) -> Iterator[None]:
    """Python's recursion limit as a `TemplateError`. Nesting is bounded per text and per
    wildcard level, so only wildcard files nested absurdly deep can reach it."""
    try:
        yield
    except RecursionError as error:
        raise TemplateError(
            "the template nests too deeply to draw", source=template.source
        ) from error


class _Step(NamedTuple):
    """One top-level segment to resolve (not an assignment), with what the locks say about it."""

    position: int  # in template.segments
    segment: int  # the segment's 1-based index
    node: Variant | Wildcard | VariableUse
    lock: str | None
    pin: int | None
    # For the commonest segment, a uniform variant of plain options in random mode: its
    # option texts (None for the others), and the option positions as ready-made tuples.
    literals: tuple[str, ...] | None
    option_tuples: tuple[tuple[int], ...]


class _Binding(NamedTuple):
    """A top-level assignment, bound before the other segments are drawn."""

    segment: int | None  # the segment's index; None for a deferred definition
    node: Assignment
    lock: str | None


# What combinatorial mode enumerates for one segment: each piece with its option positions.
_ChoicesMaker = Callable[[], Iterator[tuple[Piece, tuple[int, ...]]]]


class PromptSampler:
    """Draws prompts from one template; parse once, build one sampler, draw many.

    Drawing reuses the sampler's state, so one sampler belongs to one thread at a time.
    """

    def __init__(
        self,
        template: Template,
        wildcards: WildcardLibrary | None = None,
        *,
        mode: SamplingMode = RANDOM,
        locks: SegmentLocks | None = None,
        beliefs: TemplateBeliefs | None = None,
    ) -> None:
        """`beliefs`: what ratings say about this template's options, for learned mode."""
        self.template = template
        self.library = wildcards if wildcards is not None else WildcardLibrary()
        self.mode = SamplingMode(mode)
        self.locks = locks if locks is not None else SegmentLocks()
        self.locks.check(template)
        self._enumerator = Enumerator(self.library)
        self._texts = [s.node if isinstance(s.node, str) else "" for s in template.segments]
        self._choice_count = len(template.randomized)
        self._assignments: list[_Binding] = []
        self._steps: list[_Step] = []
        for position, segment in enumerate(template.segments):
            node, index = segment.node, segment.index
            if isinstance(node, Assignment):
                lock = self.locks.locked.get(index) if index is not None else None
                self._assignments.append(_Binding(index, node, lock))
            elif not isinstance(node, str):
                assert index is not None  # every construct but a definition has one
                self._steps.append(self._step(position, index, node))
        self._places = [(step.position, step.segment) for step in self._steps]
        self._draw_state = Draw(self.library)
        self._check_wildcards()
        self._learned = self._learned_draws(beliefs or {}) if self.mode is LEARNED else {}

    def _step(self, position: int, index: int, node: Variant | Wildcard | VariableUse) -> _Step:
        lock = self.locks.locked.get(index)
        pin = self.locks.pinned.get(index)
        literals: tuple[str, ...] | None = None
        option_tuples: tuple[tuple[int], ...] = ()
        if (
            isinstance(node, Variant)
            and self.mode is RANDOM
            and node.mode in (None, RANDOM)
            and node.literals is not None
            and node.cumulative_weights is None
            and node.count is None
            and lock is None
            and pin is None
        ):
            literals = node.literals
            option_tuples = tuple((option,) for option in range(len(literals)))
        return _Step(position, index, node, lock, pin, literals, option_tuples)

    def _check_wildcards(self) -> None:
        """Unknown top-level wildcards fail now rather than at the first draw."""
        for step in self._steps:
            node = step.node
            if isinstance(node, Variant) and node.pool is not None:
                self.library.resolve(node.pool)
            if isinstance(node, Wildcard):
                size = len(self.library.resolve(node))
                if step.pin is not None and step.pin >= size:
                    raise LockError(
                        f"segment {step.segment} has no option {step.pin}: expected 0 to {size - 1}"
                    )

    def _learned_draws(self, beliefs: TemplateBeliefs) -> dict[int, LearnedDraw]:
        """A learned draw for each free top-level segment that picks one option and has
        ratings to go by; the others draw as in random mode."""
        draws = {}
        for step in self._steps:
            node, segment = step.node, beliefs.get(step.segment)
            if segment is None or step.lock is not None or step.pin is not None:
                continue
            texts: list[str | None]
            if isinstance(node, Variant) and node.count is None and node.mode is None:
                texts = [option.literal for option in node.options]
                cumulative, size = node.cumulative_weights, len(node.options)
            elif isinstance(node, Wildcard) and node.mode is None:
                values = self.library.resolve(node)
                texts = [text if not has_constructs(text) else None for text in values.texts]
                cumulative, size = values.cumulative_weights, len(values)
            else:
                continue
            weights = own_weights(cumulative) if cumulative else [1.0] * size
            draw = LearnedDraw.for_options(texts, weights, segment)
            if draw is not None:
                draws[step.segment] = draw
        return draws

    def prompts(self, seeds: Iterable[int], first_number: int = 0) -> Iterator[ResolvedPrompt]:
        """One prompt per prompt seed, lazily, numbered from `first_number` (its position in
        a run of several templates). In combinatorial mode the seeds also cap the count, and
        the prompts stop early when the combinations run out."""
        with _nesting_guard(self.template):
            if self.mode is COMBINATORIAL:
                yield from self._combinations(iter(seeds), first_number)
            else:
                for number, seed in enumerate(seeds, start=first_number):
                    yield self._draw(number, seed)

    def combination_count(self) -> int:
        """How many prompts combinatorial mode yields without a cap."""
        with _nesting_guard(self.template):
            return self._count()

    def _count(self) -> int:
        enumerator = self._enumerator
        env: dict[str, str | Sequence] = {}
        total = 1
        for binding in self._assignments:
            node = binding.node
            if binding.lock is None and node.immediate:
                total *= enumerator.count_sequence(node.value, env, 0)
            env[node.name] = "" if node.immediate else node.value
        for step in self._steps:
            if step.lock is None:
                total *= enumerator.count_node(step.node, env, 0, only=step.pin)
        return total

    def _draw(self, number: int, seed: int) -> ResolvedPrompt:
        # The hot path of random sampling: keep it lean.
        mode = self.mode
        draw = self._draw_state
        draw.start(seed, number)
        texts = self._texts[:]
        choices: list[SegmentChoice | None] = [None] * self._choice_count
        if self._assignments:
            self._bind(draw, choices)
        random = draw.random  # fixed for the prompt in random mode, the only one with literals
        segment = draw.segment
        options: tuple[int, ...]
        learned = self._learned
        for position, index, node, lock, pin, literals, option_tuples in self._steps:
            segment(index)
            if literals is not None:
                option = int(random() * len(literals))
                text = literals[option]
                options = option_tuples[option]
            elif lock is not None:
                text, options = lock, ()
            elif index in learned and isinstance(node, Variant | Wildcard):
                option = learned[index].choose(random)
                text = self._render_chosen(node, option, draw)
                options = (option,)
            elif type(node) is Variant:
                text, options = self._variant(node, pin, draw)
            elif type(node) is Wildcard:
                node_mode = node.mode or mode
                values = self.library.resolve(node)
                value = choose_value(values, draw, node_mode) if pin is None else pin
                text = render_value(values, value, node, draw, node_mode, 0)
                options = (value,)
            else:
                text, options = render_use(cast(VariableUse, node), draw, mode, 0), ()
            texts[position] = text
            choices[index - 1] = _new_tuple(SegmentChoice, (index, text, options))
        return ResolvedPrompt(
            "".join(texts), _complete(choices), self.locks, mode, seed, number, self.template
        )

    def _render_chosen(self, node: Variant | Wildcard, option: int, draw: Draw) -> str:
        if isinstance(node, Variant):
            return render_option(node, option, draw, self.mode, 0)
        return render_value(self.library.resolve(node), option, node, draw, self.mode, 0)

    def _variant(self, node: Variant, pin: int | None, draw: Draw) -> tuple[str, tuple[int, ...]]:
        mode = node.mode or self.mode
        if node.count is not None:  # pick-N segments take locks, never pins
            return pick(node, draw, mode, 0)
        option = choose_option(node, draw, mode) if pin is None else pin
        return render_option(node, option, draw, mode, 0), (option,)

    def _bind(self, draw: Draw, choices: list[SegmentChoice | None]) -> None:
        """Top-level assignments, in order, before the other segments (as nested ones are)."""
        variables = draw.variables = {}
        for binding in self._assignments:
            node, index = binding.node, binding.segment
            if index is None:  # a deferred definition: drawn again at each use
                variables[node.name] = node.value
                continue
            value = binding.lock
            if value is None:
                draw.segment(index)
                value = render_sequence(node.value, draw, self.mode, 0)
            variables[node.name] = value
            choices[index - 1] = SegmentChoice(index, value, ())

    def _combinations(self, seeds: Iterator[int], number: int) -> Iterator[ResolvedPrompt]:
        enumerator = self._enumerator
        assignments = tuple(binding.node for binding in self._assignments)
        locked = tuple(binding.lock for binding in self._assignments)
        for env, values in enumerator.bind(assignments, {}, 0, locked):
            makers = [self._choices_maker(step, env) for step in self._steps]
            for combination in lazy_product(makers):
                seed = next(seeds, None)
                if seed is None:
                    return
                yield self._render_combination(number, seed, values, combination)
                number += 1

    def _choices_maker(self, step: _Step, env: dict) -> _ChoicesMaker:
        node = step.node
        if step.lock is not None:
            return partial(iter, ((step.lock, ()),))
        if isinstance(node, Variant | Wildcard):
            return partial(self._enumerator.choices, node, env, 0, step.pin)
        return partial(self._use_choices, node, env)

    def _use_choices(self, node: VariableUse, env: dict) -> Iterator[tuple[Piece, tuple[int, ...]]]:
        return ((piece, ()) for piece in self._enumerator.node(node, env, 0))

    def _render_combination(
        self, number: int, seed: int, values: tuple[Piece, ...], combination: tuple
    ) -> ResolvedPrompt:
        texts = self._texts[:]
        choices: list[SegmentChoice | None] = [None] * self._choice_count
        draw = None  # started only when a piece is drawn now: most combinations are plain text
        for binding, value in zip(self._assignments, values, strict=True):
            index = binding.segment
            if index is not None:
                if not isinstance(value, str):
                    draw = draw or self._start_drawing(seed, number)
                    draw.segment(index)
                    value = value(draw)
                choices[index - 1] = SegmentChoice(index, value, ())
        for (position, index), (piece, options) in zip(self._places, combination, strict=True):
            if piece.__class__ is not str:
                draw = draw or self._start_drawing(seed, number)
                draw.segment(index)
                piece = piece(draw)
            texts[position] = piece
            choices[index - 1] = _new_tuple(SegmentChoice, (index, piece, options))
        return ResolvedPrompt(
            "".join(texts), _complete(choices), self.locks, self.mode, seed, number, self.template
        )

    def _start_drawing(self, seed: int, number: int) -> Draw:
        draw = self._draw_state
        draw.start(seed, number)
        draw.memo = {}
        return draw


def _complete(choices: list[SegmentChoice | None]) -> tuple[SegmentChoice, ...]:
    """The choices once every randomized segment has made one."""
    return cast(tuple[SegmentChoice, ...], tuple(choices))
