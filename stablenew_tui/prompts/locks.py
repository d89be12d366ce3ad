"""Locks and pins: data that holds template segments still while the others draw again.

A lock keeps a segment's resolved text (`{segment index: text}`); a pin holds a variant or a
wildcard to one option (`{segment index: option position}`, 0-based) while whatever is nested
in that option still draws. Unlocking removes either. Both are plain data: stored with a job,
shown next to their segment, written into learning records.

After a template edit, `rebase` keeps a lock or pin while its segment's source text is
unchanged (following it to its new index when segments were added or removed before it) and
drops it otherwise, reporting what it dropped.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from stablenew_tui.errors import InputError
from stablenew_tui.prompts.errors import LockError
from stablenew_tui.prompts.grammar import Variant, Wildcard
from stablenew_tui.prompts.template import Template


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(sorted(mapping.items())))


@dataclass(frozen=True)
class SegmentLocks:
    locked: Mapping[int, str] = field(default_factory=dict)
    pinned: Mapping[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "locked", _frozen(self.locked))
        object.__setattr__(self, "pinned", _frozen(self.pinned))

    def __bool__(self) -> bool:
        return bool(self.locked or self.pinned)

    def lock(self, index: int, text: str) -> SegmentLocks:
        """Keep segment `index` at `text` (its last resolved text, usually)."""
        return SegmentLocks({**self.locked, index: text}, _without(self.pinned, index))

    def pin(self, index: int, option: int) -> SegmentLocks:
        """Hold segment `index` to its option at position `option` (0-based)."""
        return SegmentLocks(_without(self.locked, index), {**self.pinned, index: option})

    def unlock(self, index: int) -> SegmentLocks:
        return SegmentLocks(_without(self.locked, index), _without(self.pinned, index))

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """JSON-ready form; keys are strings because JSON object keys must be."""
        return {
            "locks": {str(index): text for index, text in self.locked.items()},
            "pins": {str(index): option for index, option in self.pinned.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]]) -> SegmentLocks:
        try:
            locked = {int(index): str(text) for index, text in data.get("locks", {}).items()}
            pinned = {int(index): int(option) for index, option in data.get("pins", {}).items()}
        except (AttributeError, TypeError, ValueError) as error:
            raise LockError(f"malformed locks: {error}") from error
        return cls(locked, pinned)

    def check(self, template: Template) -> None:
        """Raise `LockError` unless every lock and pin names a segment it can apply to."""
        count = len(template.randomized)
        for index in [*self.locked, *self.pinned]:
            if template.segment(index) is None:
                have = f"segments 1-{count}" if count else "no randomized segments"
                raise LockError(f"there is no segment {index} to lock: the template has {have}")
        for index, option in self.pinned.items():
            node = template.segment(index).node  # type: ignore[union-attr]
            if not isinstance(node, Variant | Wildcard) or (
                isinstance(node, Variant) and node.count is not None
            ):
                raise LockError(
                    f"segment {index} cannot be pinned: only a variant picking one option or "
                    "a wildcard can; lock it instead"
                )
            size = len(node.options) if isinstance(node, Variant) else None
            if option < 0 or (size is not None and option >= size):
                expected = f"0 to {size - 1}" if size is not None else "0 or more"
                raise LockError(f"segment {index} has no option {option}: expected {expected}")

    def rebase(self, old: Template, new: Template) -> RebasedLocks:
        """These locks moved from `old` to `new`, following unchanged segments."""
        old_sources = [segment.source for segment in old.randomized]
        new_sources = [segment.source for segment in new.randomized]
        matcher = difflib.SequenceMatcher(None, old_sources, new_sources, autojunk=False)
        moved = {
            block.a + offset + 1: block.b + offset + 1
            for block in matcher.get_matching_blocks()
            for offset in range(block.size)
        }
        dropped = [
            DroppedLock(index, _source(old, index), text, None)
            for index, text in self.locked.items()
            if index not in moved
        ] + [
            DroppedLock(index, _source(old, index), None, option)
            for index, option in self.pinned.items()
            if index not in moved
        ]
        locks = SegmentLocks(
            {moved[i]: text for i, text in self.locked.items() if i in moved},
            {moved[i]: option for i, option in self.pinned.items() if i in moved},
        )
        return RebasedLocks(locks, tuple(sorted(dropped, key=lambda lock: lock.index)))


@dataclass(frozen=True)
class DroppedLock:
    """A lock (`text`) or pin (`option`) whose segment changed or disappeared."""

    index: int
    source: str | None  # the segment's source in the old template, when it had one
    text: str | None
    option: int | None


@dataclass(frozen=True)
class RebasedLocks:
    locks: SegmentLocks
    dropped: tuple[DroppedLock, ...]


def _without(mapping: Mapping[int, Any], index: int) -> dict[int, Any]:
    return {key: value for key, value in mapping.items() if key != index}


def _source(template: Template, index: int) -> str | None:
    segment = template.segment(index)
    return segment.source if segment else None


def locks_from_flags(lock_args: Iterable[str], pin_args: Iterable[str] = ()) -> SegmentLocks:
    """`--lock INDEX=TEXT` and `--pin INDEX=OPTION` as locks."""
    locks = SegmentLocks()
    for argument in lock_args:
        index, text = _index_and_value("--lock", "INDEX=TEXT", argument)
        locks = locks.lock(index, text)
    for argument in pin_args:
        index, option = _index_and_value("--pin", "INDEX=OPTION", argument)
        if not option.isdigit():
            raise InputError(f"--pin expects INDEX=OPTION with OPTION a number, got '{argument}'")
        locks = locks.pin(index, int(option))
    return locks


def _index_and_value(flag: str, form: str, argument: str) -> tuple[int, str]:
    index, separator, value = argument.partition("=")
    if not separator or not index.strip().isdigit():
        raise InputError(f"{flag} expects {form} with INDEX a segment number, got '{argument}'")
    return int(index), value
