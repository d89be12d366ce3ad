"""The prompt being edited: locks across edits, re-rolls, and the exact next prompt."""

import random

from stablenew_tui.prompts import SamplingMode, WildcardLibrary
from stablenew_tui.prompts.draft import PromptDraft
from stablenew_tui.prompts.wildcards import wildcard_folders

TEMPLATE = "a {red|green|blue} {cat|dog|fox|owl} at {dawn|dusk}"


def _draft(text: str = TEMPLATE) -> PromptDraft:
    return PromptDraft(WildcardLibrary(wildcard_folders()), text)


def test_rows_show_each_segment_and_its_next_value():
    draft = _draft()
    rows = draft.rows(image_seed=7)
    assert [row.index for row in rows] == [1, 2, 3]
    assert [row.source for row in rows] == ["{red|green|blue}", "{cat|dog|fox|owl}", "{dawn|dusk}"]
    preview = draft.preview(7).text
    assert all(row.value in preview for row in rows)


def test_lock_holds_the_value_over_many_seeds_while_others_vary():
    draft = _draft()
    draft.lock(1, image_seed=3)
    held = draft.preview(3).choice_texts()[1]
    texts = [draft.preview(seed).text for seed in range(1000)]
    assert all(text.startswith(f"a {held} ") for text in texts)
    assert len({text.split(" ")[2] for text in texts}) == 4


def test_a_half_typed_edit_keeps_the_last_good_template():
    draft = _draft()
    draft.lock(2, image_seed=1)
    assert draft.edit(TEMPLATE + " {and") == []
    assert draft.error is not None and draft.error.column is not None
    assert [row.index for row in draft.rows(1)] == [1, 2, 3]
    assert 2 in draft.locks.locked


def test_editing_keeps_locks_on_unchanged_segments_and_drops_the_rest():
    draft = _draft()
    draft.lock(1, image_seed=1)
    draft.lock(3, image_seed=1)
    dropped = draft.edit("a {red|green|blue} {cat|dog} at {noon|night}")
    assert draft.error is None
    assert set(draft.locks.locked) == {1}
    assert [lock.index for lock in dropped] == [3]


def test_reroll_one_changes_only_that_segment_for_the_next_run_without_locking_it():
    for seed in range(200):
        draft = _draft()
        before = draft.preview(seed).choice_texts()
        draft.reroll(2, image_seed=seed, rng=random.Random(seed))
        after = draft.preview(seed).choice_texts()
        assert after[2] != before[2]
        assert (after[1], after[3]) == (before[1], before[3]), f"seed {seed}: others moved"
        assert not draft.locks, "a re-roll is not a lock"
        assert draft.run_locks.locked == {2: after[2]}, "the next run gets the new value"
        assert [row.rerolled for row in draft.rows(seed)] == [False, True, False]
        draft.run_taken()
        assert draft.preview(seed).choice_texts() == before, "the runs after it draw again"


def test_rerolling_a_locked_segment_keeps_it_locked_at_its_new_value():
    draft = _draft()
    draft.lock(1, image_seed=4)
    draft.reroll(1, image_seed=4, rng=random.Random(4))
    value = draft.preview(4).choice_texts()[1]
    draft.run_taken()
    assert draft.locks.locked == {1: value}
    assert all(draft.preview(seed).choice_texts()[1] == value for seed in range(50))


def test_locking_a_rerolled_segment_keeps_the_new_value_for_every_run():
    draft = _draft()
    draft.reroll(3, image_seed=9, rng=random.Random(9))
    value = draft.preview(9).choice_texts()[3]
    draft.lock(3, image_seed=9)
    draft.run_taken()
    assert draft.locks.locked == {3: value} and not draft.rerolled


def test_reroll_all_draws_the_free_segments_again_for_the_next_run_only():
    draft = _draft()
    draft.lock(1, image_seed=0)
    seeds = range(40)
    linked = [draft.preview(seed).text for seed in seeds]
    draft.reroll_all(random.Random(1))
    rerolled = [draft.preview(seed).text for seed in seeds]
    assert len(set(rerolled)) == 1, "the next run's prompt no longer follows the image seed"
    assert all(text.split(" ")[1] == linked[0].split(" ")[1] for text in rerolled), "lock kept"
    draft.run_taken()
    assert [draft.preview(seed).text for seed in seeds] == linked, "random again after it"


def test_locking_a_segment_never_moves_the_others():
    draft = _draft()
    unlocked = {seed: draft.preview(seed).choice_texts() for seed in range(200)}
    draft.lock(1, image_seed=0)
    for seed, choices in unlocked.items():
        after = draft.preview(seed).choice_texts()
        assert (after[2], after[3]) == (choices[2], choices[3]), f"seed {seed}: others moved"


def test_an_unlinked_prompt_seed_no_longer_follows_the_image_seed():
    draft = _draft()
    assert len({draft.preview(seed).text for seed in range(20)}) > 1, "linked: varies"
    draft.prompt_seed = 12345
    assert len({draft.preview(seed).text for seed in range(20)}) == 1, "unlinked: fixed"


def test_an_unknown_wildcard_is_reported_not_raised():
    draft = _draft("a __no_such_wildcard__ thing")
    assert draft.preview(1) is None
    assert "no_such_wildcard" in str(draft.error)


def test_cyclical_mode_preview():
    draft = _draft("{a|b|c}")
    draft.mode = SamplingMode.CYCLICAL
    assert draft.preview(5).text == "a"


def test_holding_an_option_pins_it_when_written_so_and_locks_it_otherwise():
    draft = _draft("a {red|{pale|deep} green} __colors__ fox")
    assert draft.hold(1, "red") is True and dict(draft.locks.pinned) == {1: 0}
    assert draft.hold(1, "deep green") is False  # a drawn text, not an option as written
    assert dict(draft.locks.locked) == {1: "deep green"} and not draft.locks.pinned
    colours = WildcardLibrary(wildcard_folders()).values("colors").texts
    assert draft.hold(2, colours[2]) is True and draft.locks.pinned[2] == 2
    assert all(draft.preview(seed).choice_texts()[2] == colours[2] for seed in range(50))


def test_learned_mode_preview_follows_the_beliefs():
    from stablenew_tui.prompts.learned import OptionBelief, SegmentBeliefs

    draft = _draft()
    draft.mode = SamplingMode.LEARNED
    draft.beliefs = {
        TEMPLATE: {1: SegmentBeliefs({"blue": OptionBelief(5.0, 0.01)}, OptionBelief(1.0, 0.01))}
    }
    colours = [draft.preview(seed).choice_texts()[1] for seed in range(400)]
    assert colours.count("blue") > 300  # 0.85 expected; uniform would give a third
