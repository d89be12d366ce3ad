"""Learned sampling: Thompson draws with a floor, locks and pins first, recorded like any draw."""

from __future__ import annotations

from collections import Counter

import pytest

from stablenew_tui.prompts import PromptSampler, SamplingMode, SegmentLocks, Template
from stablenew_tui.prompts.learned import FLOOR, LearnedDraw, OptionBelief, SegmentBeliefs
from stablenew_tui.prompts.rng import PromptRandom

LEARNED = SamplingMode.LEARNED
TEMPLATE = "a {red|blue|green|gold} fox in {rain|fog}"
SURE_GOLD = SegmentBeliefs(
    {"gold": OptionBelief(4.8, 0.05), "red": OptionBelief(2.0, 0.05),
     "blue": OptionBelief(2.1, 0.05), "green": OptionBelief(1.9, 0.05)},
    unseen=OptionBelief(3.0, 0.5),
)  # fmt: skip


def _colours(beliefs, draws: int = 20_000, template: str = TEMPLATE, locks=None) -> Counter:
    sampler = PromptSampler(Template.parse(template), mode=LEARNED, beliefs=beliefs, locks=locks)
    return Counter(prompt.choice_texts()[1] for prompt in sampler.prompts(range(draws)))


def test_the_best_option_is_drawn_most_and_every_option_keeps_the_floor():
    counts = _colours({1: SURE_GOLD})
    shares = {colour: count / 20_000 for colour, count in counts.items()}
    # Thompson picks gold whenever it is not the uniform floor's turn: 0.8 + 0.05.
    assert shares["gold"] == pytest.approx(0.85, abs=0.01)
    for colour in ("red", "blue", "green"):
        assert shares[colour] == pytest.approx(FLOOR, abs=0.006)  # never below the floor


def test_close_beliefs_share_the_draws():
    close = SegmentBeliefs(
        {"red": OptionBelief(3.5, 0.4), "blue": OptionBelief(3.4, 0.4)}, OptionBelief(3.0, 0.5)
    )
    counts = _colours({1: close})
    assert counts["red"] > counts["blue"] > counts["green"] >= 20_000 * FLOOR * 0.9
    assert counts["red"] < 0.6 * 20_000  # uncertain: still plenty of exploring


def test_deterministic_for_a_prompt_seed():
    sampler = PromptSampler(Template.parse(TEMPLATE), mode=LEARNED, beliefs={1: SURE_GOLD})
    again = PromptSampler(Template.parse(TEMPLATE), mode=LEARNED, beliefs={1: SURE_GOLD})
    first = [p.text for p in sampler.prompts(range(200))]
    assert first == [p.text for p in again.prompts(range(200))]
    assert first != [p.text for p in again.prompts(range(1, 201))]


def test_without_ratings_learned_mode_draws_exactly_as_random_mode(library):
    template = Template.parse(TEMPLATE + " __colors__ {2$$a|b|c}")
    random_mode = PromptSampler(template, library, mode=SamplingMode.RANDOM)
    learned = PromptSampler(template, library, mode=LEARNED, beliefs={})
    assert [p.text for p in learned.prompts(range(300))] == [
        p.text for p in random_mode.prompts(range(300))
    ]


def test_locks_and_pins_win():
    locked = _colours({1: SURE_GOLD}, 500, locks=SegmentLocks({1: "violet"}))
    assert locked == Counter({"violet": 500})
    pinned = _colours({1: SURE_GOLD}, 500, locks=SegmentLocks(pinned={1: 0}))
    assert pinned == Counter({"red": 500})


def test_choices_and_mode_are_recorded():
    sampler = PromptSampler(Template.parse(TEMPLATE), mode=LEARNED, beliefs={1: SURE_GOLD})
    prompt = next(iter(sampler.prompts([7])))
    record = prompt.to_record()
    assert record["mode"] == "learned"
    colour = record["choices"][0]
    assert colour["text"] in prompt.text
    assert colour["options"] == [["red", "blue", "green", "gold"].index(colour["text"])]


def test_weight_zero_options_are_never_drawn():
    counts = _colours({1: SURE_GOLD}, 5000, template="a {0::red|blue|green|gold} fox")
    assert "red" not in counts and counts["gold"] > counts["blue"]


def test_options_with_nested_constructs_get_the_prior():
    template = "a {{pale|deep} red|blue} fox"
    favoured_prior = SegmentBeliefs({"blue": OptionBelief(2.0, 0.05)}, OptionBelief(4.5, 0.05))
    counts = _colours({1: favoured_prior}, 4000, template=template)
    red = counts["pale red"] + counts["deep red"]
    assert red == pytest.approx(4000 * 0.95, rel=0.03)  # the unrated nested option, less floor


def test_wildcard_segments_learn_too(library):
    template = Template.parse("__colors__")
    values = library.resolve(template.segments[0].node).texts
    best = values[-1]
    beliefs = {1: SegmentBeliefs({best: OptionBelief(5.0, 0.01)}, OptionBelief(2.0, 0.01))}
    sampler = PromptSampler(template, library, mode=LEARNED, beliefs=beliefs)
    counts = Counter(p.text for p in sampler.prompts(range(4000)))
    floor_mass = FLOOR * len(values)
    assert counts[best] / 4000 == pytest.approx(1 - floor_mass + FLOOR, abs=0.03)


def test_twenty_options_or_more_draw_as_random_mode():
    template = "{" + "|".join(f"o{n}" for n in range(20)) + "}"
    beliefs = {1: SegmentBeliefs({"o0": OptionBelief(5.0, 0.01)}, OptionBelief(1.0, 0.01))}
    learned = PromptSampler(Template.parse(template), mode=LEARNED, beliefs=beliefs)
    random_mode = PromptSampler(Template.parse(template))
    assert [p.text for p in learned.prompts(range(100))] == [
        p.text for p in random_mode.prompts(range(100))
    ]


def test_floor_probability_is_exact_for_hopeless_options():
    """Probability of each option, measured over many uniform streams: K × FLOOR of the mass
    is spread uniformly, the rest goes to the certain winner."""
    draw = LearnedDraw(
        [0, 1, 2], [OptionBelief(5.0, 0.0), OptionBelief(1.0, 0.0), OptionBelief(1.0, 0.0)]
    )
    generator = PromptRandom()
    counts = Counter()
    for seed in range(30_000):
        generator.seed(seed)
        counts[draw.choose(generator.random)] += 1
    assert counts[1] / 30_000 == pytest.approx(FLOOR, abs=0.004)
    assert counts[0] / 30_000 == pytest.approx(1 - 2 * FLOOR, abs=0.006)
