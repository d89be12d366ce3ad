"""The per-prompt generator: splitmix64 exactly, floats in [0, 1), any int as a seed."""

from __future__ import annotations

from collections import Counter

from stablenew_tui.prompts.rng import PromptRandom


def test_the_stream_is_splitmix64():
    # Reference outputs of splitmix64 from state 1234567; a float is the top 53 bits / 2**53.
    expected = [6457827717110365317, 3203168211198807973, 9817491932198370423]
    generator = PromptRandom()
    generator._state = 1234567
    assert [generator.random() for _ in expected] == [(n >> 11) / 2**53 for n in expected]


def test_known_floats_for_a_seed():
    generator = PromptRandom(42)
    first = [generator.random() for _ in range(3)]
    generator.seed(42)
    assert [generator.random() for _ in range(3)] == first
    assert [int(value * 2**53) for value in first] == [
        5369361458086087,
        1444442999664155,
        1498778176012342,
    ]


def test_negative_and_wide_seeds_get_their_own_streams():
    seeds = [0, 1, -1, 2**64 - 1, 2**64, -(2**64), 2**64 + 1, 2**200, -(2**200)]
    firsts = [PromptRandom(seed).random() for seed in seeds]
    assert len(set(firsts)) == len(seeds)
    assert firsts == [PromptRandom(seed).random() for seed in seeds]


def test_draws_are_in_range_and_roughly_uniform():
    generator = PromptRandom(7)
    values = [generator.random() for _ in range(60_000)]
    assert all(0.0 <= value < 1.0 for value in values)
    counts = Counter(int(value * 6) for value in values)
    assert sorted(counts) == list(range(6))
    assert all(9_500 < count < 10_500 for count in counts.values())
