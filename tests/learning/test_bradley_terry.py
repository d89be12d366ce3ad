"""Bradley–Terry: known strengths recovered from simulated picks, honest intervals."""

from __future__ import annotations

import math
import random

import pytest

from stablenew_tui.learning.bradley_terry import (
    PRIOR_PRECISION,
    fit,
    preferred_probability,
)
from stablenew_tui.learning.stats import Z80


def simulated_picks(true: dict[str, float], count: int, rng: random.Random):
    names = list(true)
    picks = []
    for _ in range(count):
        a, b = rng.sample(names, 2)
        won = rng.random() < preferred_probability(true[a], true[b])
        picks.append((a, b) if won else (b, a))
    return picks


def test_known_strengths_are_recovered_in_order_and_within_their_intervals():
    true = {"A": 1.5, "B": 0.5, "C": 0.0, "D": -0.5, "E": -1.5}
    rng = random.Random(7)
    picks = simulated_picks(true, 2000, rng)
    fitted = fit(list(true), picks)
    assert [s.item for s in fitted] == ["A", "B", "C", "D", "E"]
    centre = sum(s.strength for s in fitted) / len(fitted)
    for s in fitted:
        assert abs((s.strength - centre) - true[s.item]) < 0.2, s
        assert s.low < s.strength < s.high
    assert sum(s.picks for s in fitted) == 2 * 2000
    assert sum(s.wins for s in fitted) == 2000


def test_the_80_percent_intervals_cover_about_80_percent_of_the_time():
    true = {"A": 0.8, "B": 0.0, "C": -0.8}
    rng = random.Random(3)
    covered = trials = 0
    for _ in range(150):
        fitted = fit(list(true), simulated_picks(true, 60, rng))
        # The prior centres the strengths; compare differences to the middle item.
        middle = next(s for s in fitted if s.item == "B")
        for s in fitted:
            if s.item == "B":
                continue
            difference = s.strength - middle.strength
            spread = (s.high - s.low) / 2 + (middle.high - middle.low) / 2
            trials += 1
            covered += abs(difference - (true[s.item] - true["B"])) <= spread
    assert covered / trials >= 0.8  # summed spreads over-cover a little: never under


def test_one_pick_is_defined_and_pulled_toward_the_middle_by_the_prior():
    (winner, loser) = fit(["left", "right"], [("left", "right")])
    assert winner.item == "left" and loser.item == "right"
    # By hand: θ = −θ' = t solves 1 − σ(2t) = λ t; with λ = 0.5, t ≈ 0.5213 (σ(1.0426) ≈ 0.7394)
    t = winner.strength
    assert math.isclose(1 - preferred_probability(t, -t), PRIOR_PRECISION * t, rel_tol=1e-6)
    assert t == pytest.approx(0.5213, abs=1e-3)
    assert loser.strength == pytest.approx(-t)
    # Its interval from the Hessian: λ + 2p(1−p) on the diagonal, −p(1−p) off it.
    p = preferred_probability(t, -t)
    w = p * (1 - p)
    determinant = (PRIOR_PRECISION + w) ** 2 - w * w
    variance = (PRIOR_PRECISION + w) / determinant
    assert winner.high - winner.strength == pytest.approx(Z80 * math.sqrt(variance))


def test_items_never_compared_stay_at_zero_with_the_priors_width():
    fitted = {s.item: s for s in fit(["a", "b", "c"], [("a", "b"), ("a", "b"), ("x", "a")])}
    assert fitted["c"].strength == 0.0
    assert fitted["c"].high == pytest.approx(Z80 / math.sqrt(PRIOR_PRECISION))
    assert fitted["a"].picks == 2  # the pick naming an unknown item is left out
    assert fit([], []) == []
