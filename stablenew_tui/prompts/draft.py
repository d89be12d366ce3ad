"""The prompt being edited: its segments, their locks, and the exact prompt that runs next.

The editor in the TUI is a view of this. Editing keeps the last template that parsed (and
reports the error of the new text) so a half-typed brace never wipes the segment list; locks
follow their segment across edits and are dropped, visibly, when its text changes.

Re-rolling changes the next run only: `r` gives one free segment another value and `R` draws
every free segment again (a prompt seed of its own), both for the next run and no further, so
random mode stays random. A segment stays put across runs only when the user locks it (`l`);
re-rolling a locked segment keeps it locked, at its new value.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from stablenew_tui.prompts.errors import TemplateError
from stablenew_tui.prompts.grammar import SamplingMode, Variant, Wildcard
from stablenew_tui.prompts.learned import TemplateBeliefs
from stablenew_tui.prompts.locks import DroppedLock, SegmentLocks
from stablenew_tui.prompts.sampler import PromptSampler, ResolvedPrompt
from stablenew_tui.prompts.template import Template
from stablenew_tui.prompts.wildcards import WildcardLibrary

REROLL_TRIES = 20


class SegmentAction(StrEnum):
    """What the segment list can do: to the selected segment, or to all of them."""

    LOCK = "lock"
    UNLOCK = "unlock"
    REROLL = "reroll"
    LOCK_ALL = "lock_all"
    UNLOCK_ALL = "unlock_all"
    REROLL_ALL = "reroll_all"


@dataclass(frozen=True)
class SegmentRow:
    index: int
    source: str
    value: str
    held: bool  # locked or pinned: kept for every run
    rerolled: bool = False  # re-rolled: this value for the next run only


@dataclass
class PromptDraft:
    wildcards: WildcardLibrary
    text: str = ""
    negative: str = ""
    mode: SamplingMode = SamplingMode.RANDOM
    locks: SegmentLocks = field(default_factory=SegmentLocks)
    prompt_seed: int | None = None  # the next run's only; None: linked to the image seed
    rerolled: SegmentLocks = field(default_factory=SegmentLocks)  # the next run's only
    # What ratings say about templates' options, by template text (learned mode).
    beliefs: Mapping[str, TemplateBeliefs] = field(default_factory=dict)
    template: Template = field(init=False)
    error: TemplateError | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.template = Template.parse("")
        self.edit(self.text)

    def edit(self, text: str) -> list[DroppedLock]:
        """Take new template text; returns the locks that no longer fit it."""
        self.text = text
        try:
            template = Template.parse(text)
        except TemplateError as error:
            self.error = error
            return []
        self.error = None
        rebased = self.locks.rebase(self.template, template)
        # A re-rolled value whose segment changed simply draws again: it was never kept.
        self.rerolled = self.rerolled.rebase(self.template, template).locks
        self.template, self.locks = template, rebased.locks
        return list(rebased.dropped)

    @property
    def run_locks(self) -> SegmentLocks:
        """What holds segments in the next run: the locks, and the re-rolled values."""
        return SegmentLocks({**self.rerolled.locked, **self.locks.locked}, self.locks.pinned)

    def run_taken(self) -> None:
        """The next run has been asked for: re-rolls were for it alone."""
        self.rerolled = SegmentLocks()
        self.prompt_seed = None

    def preview(self, image_seed: int) -> ResolvedPrompt | None:
        """The prompt the next run's first image gets, or None when it cannot be drawn."""
        return self._draw(self.run_locks, self._seed(image_seed))

    def rows(self, image_seed: int) -> list[SegmentRow]:
        resolved = self.preview(image_seed)
        values = resolved.choice_texts() if resolved else {}
        held = set(self.locks.locked) | set(self.locks.pinned)
        return [
            SegmentRow(
                index,
                segment.source,
                values.get(index, ""),
                held=index in held,
                rerolled=index in self.rerolled.locked,
            )
            for index, segment in enumerate(self.template.randomized, start=1)
        ]

    def lock(self, index: int, image_seed: int) -> None:
        resolved = self.preview(image_seed)
        if resolved is not None and index in resolved.choice_texts():
            self.locks = self.locks.lock(index, resolved.choice_texts()[index])
            self.rerolled = self.rerolled.unlock(index)

    def hold(self, index: int, text: str) -> bool:
        """Hold segment `index` to the option that reads `text`: pinned when it is one of the
        segment's options as written (so what is nested in it still draws), else locked to
        the text. True when pinned."""
        segment = self.template.segment(index)
        node = segment.node if segment is not None else None
        texts: tuple[str | None, ...] = ()
        if isinstance(node, Variant) and node.count is None:
            texts = tuple(option.literal for option in node.options)
        elif isinstance(node, Wildcard):
            try:
                texts = self.wildcards.resolve(node).texts
            except TemplateError:
                texts = ()
        if text in texts:
            self.locks = self.locks.pin(index, texts.index(text))
            return True
        self.locks = self.locks.lock(index, text)
        return False

    def unlock(self, index: int) -> None:
        self.locks = self.locks.unlock(index)
        self.rerolled = self.rerolled.unlock(index)

    def lock_all(self, image_seed: int) -> None:
        for index in range(1, len(self.template.randomized) + 1):
            self.lock(index, image_seed)

    def unlock_all(self) -> None:
        self.locks = SegmentLocks()
        self.rerolled = SegmentLocks()

    def act(
        self, action: SegmentAction, index: int | None, image_seed: int, rng: random.Random
    ) -> None:
        """Apply `action` to segment `index` (ignored by the `_ALL` actions; nothing happens
        to one segment when none is selected)."""
        match action:
            case SegmentAction.LOCK if index is not None:
                self.lock(index, image_seed)
            case SegmentAction.UNLOCK if index is not None:
                self.unlock(index)
            case SegmentAction.REROLL if index is not None:
                self.reroll(index, image_seed, rng)
            case SegmentAction.LOCK_ALL:
                self.lock_all(image_seed)
            case SegmentAction.UNLOCK_ALL:
                self.unlock_all()
            case SegmentAction.REROLL_ALL:
                self.reroll_all(rng)

    def reroll(self, index: int, image_seed: int, rng: random.Random) -> None:
        """Another value for one segment in the next run, the others unmoved. A locked segment
        stays locked, at the new value; a free one gets it for the next run only."""
        resolved = self.preview(image_seed)
        current = resolved.choice_texts().get(index) if resolved else None
        free = self.run_locks.unlock(index)
        for _ in range(REROLL_TRIES):
            drawn = self._draw(free, rng.randrange(2**32))
            value = drawn.choice_texts().get(index) if drawn else None
            if value is not None and value != current:
                if index in self.locks.locked or index in self.locks.pinned:
                    self.locks = self.locks.lock(index, value)
                else:
                    self.rerolled = self.rerolled.lock(index, value)
                return

    def reroll_all(self, rng: random.Random) -> None:
        """Every segment that is not locked draws again in the next run (its own prompt seed);
        the runs after it draw from their image seeds again."""
        self.rerolled = SegmentLocks()
        self.prompt_seed = rng.randrange(2**32)

    def _seed(self, image_seed: int) -> int:
        return image_seed if self.prompt_seed is None else self.prompt_seed

    def _draw(self, locks: SegmentLocks, seed: int) -> ResolvedPrompt | None:
        """One prompt; a problem only found while drawing (an unknown wildcard) becomes the
        draft's error."""
        try:
            sampler = PromptSampler(
                self.template, self.wildcards, mode=self.mode, locks=locks,
                beliefs=self.beliefs.get(self.template.text),
            )  # fmt: skip
            return next(iter(sampler.prompts([seed])), None)
        except TemplateError as error:
            self.error = error
            return None
