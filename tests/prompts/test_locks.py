"""Locks and pins as data: editing, checking, storing, and following template edits."""

from __future__ import annotations

import pytest

from stablenew_tui.prompts import (
    DroppedLock,
    LockError,
    PromptSampler,
    SegmentLocks,
    Template,
)


def test_lock_pin_unlock_are_immutable_edits():
    empty = SegmentLocks()
    locks = empty.lock(1, "red").pin(2, 0)
    assert not empty and locks
    assert dict(locks.locked) == {1: "red"} and dict(locks.pinned) == {2: 0}
    assert dict(locks.pin(1, 3).locked) == {}  # a pin replaces a lock
    assert locks.unlock(1).unlock(2) == empty


def test_round_trip_through_json_data():
    locks = SegmentLocks({3: "cat"}, {1: 2})
    data = locks.to_dict()
    assert data == {"locks": {"3": "cat"}, "pins": {"1": 2}}
    assert SegmentLocks.from_dict(data) == locks
    with pytest.raises(LockError):
        SegmentLocks.from_dict({"locks": {"x": "y"}})


def test_lock_the_choice_a_prompt_made():
    template = Template.parse("a {red|blue} {cat|dog}")
    prompt = next(PromptSampler(template).prompts([3]))
    locks = SegmentLocks().lock(2, prompt.choices[1].text)
    again = list(PromptSampler(template, locks=locks).prompts(range(50)))
    assert {p.choices[1].text for p in again} == {prompt.choices[1].text}


@pytest.mark.parametrize(
    ("locks", "message"),
    [
        (SegmentLocks({4: "x"}), "no segment 4"),
        (SegmentLocks({}, {1: 5}), "no option 5"),
        (SegmentLocks({}, {1: 2}), "no option 2: expected 0 to 1"),  # one past the last
        (SegmentLocks({}, {3: 0}), "cannot be pinned"),
        (SegmentLocks({}, {4: 0}), "no segment 4"),
    ],
)
def test_check_refuses_locks_the_template_cannot_take(locks, message):
    template = Template.parse("{a|b} __colors__ {2$$x|y|z}")
    with pytest.raises(LockError, match=message):
        locks.check(template)


def test_pin_beyond_a_wildcards_values(library):
    template = Template.parse("__colors__")
    with pytest.raises(LockError, match="no option 3"):
        PromptSampler(template, library, locks=SegmentLocks({}, {1: 3}))


def test_rebase_keeps_unchanged_segments_and_follows_them():
    old = Template.parse("{a|b} __colors__ {x|y}")
    new = Template.parse("new {p|q} {a|b} __colors__ {x|y|z}")
    result = SegmentLocks({1: "a", 2: "red", 3: "y"}, {}).rebase(old, new)
    assert dict(result.locks.locked) == {2: "a", 3: "red"}
    assert result.dropped == (DroppedLock(3, "{x|y}", "y", None),)


def test_rebase_drops_pins_of_edited_segments_and_reports_them():
    old = Template.parse("{a|b} {c|d}")
    new = Template.parse("{a|b|e} {c|d}")
    result = SegmentLocks({}, {1: 0, 2: 1}).rebase(old, new)
    assert dict(result.locks.pinned) == {2: 1}
    assert result.dropped == (DroppedLock(1, "{a|b}", None, 0),)
