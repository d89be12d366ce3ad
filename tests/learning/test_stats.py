"""The statistics against values worked out by hand.

The worked example: options A, B, C rated [5, 5, 4], [2, 3] and [4].
N = 6, total 23, overall mean 23/6.
Within: SSW = (66 − 14²/3) + (13 − 5²/2) + 0 = 2/3 + 1/2 = 7/6 over N − k = 3 → σ² = 7/18.
Between: SSB = 3(14/3 − 23/6)² + 2(5/2 − 23/6)² + (4 − 23/6)² = 75/36 + 128/36 + 1/36 = 17/3,
MSB = 17/6, n0 = (6 − 14/6)/2 = 11/6, τ² = (17/6 − 7/18)/(11/6) = 4/3.
Prior strength m = σ²/τ² = 7/24.
Shrunk A = (14 + (7/24)(23/6)) / (3 + 7/24) = 2177/474; B = 881/330; C = 737/186.
Posterior variance of A = (7/18)/(79/24) = 28/237, so the 80 % interval is
2177/474 ± 1.2815516 · √(28/237), clipped to 5 at the top.
"""

from __future__ import annotations

import math

import pytest

from stablenew_tui.learning.stats import (
    MIN_BETWEEN_VARIANCE,
    MIN_WITHIN_VARIANCE,
    LeaveOneOut,
    Tally,
    estimate,
    importance,
    pool,
    wilson_interval,
)


def tally(*ratings: int) -> Tally:
    result = Tally()
    for rating in ratings:
        result.add(rating)
    return result


A, B, C = tally(5, 5, 4), tally(2, 3), tally(4)


def test_pooling_by_the_method_of_moments():
    pooling = pool([A, B, C])
    assert pooling.mean == pytest.approx(23 / 6)
    assert pooling.within_variance == pytest.approx(7 / 18)
    assert pooling.between_variance == pytest.approx(4 / 3)
    assert pooling.prior_strength == pytest.approx(7 / 24)
    assert not pooling.between_floored


def test_shrunk_means_and_intervals():
    pooling = pool([A, B, C])
    a, b, c = (estimate(t, pooling) for t in (A, B, C))
    assert (a.count, a.mean, b.mean, c.mean) == (3, pytest.approx(14 / 3), 2.5, 4.0)
    assert a.shrunk == pytest.approx(2177 / 474)
    assert b.shrunk == pytest.approx(881 / 330)
    assert c.shrunk == pytest.approx(737 / 186)
    spread = 1.2815515655446004 * math.sqrt(28 / 237)
    assert a.low == pytest.approx(2177 / 474 - spread)  # 4.1523
    assert a.high == 5.0  # 5.0333 clipped to the scale
    assert b.low == pytest.approx(2.141770875, abs=1e-9)
    assert b.high == pytest.approx(3.197623064, abs=1e-9)


def test_keepers_and_wilson_bound():
    pooling = pool([A, B, C])
    a, b = estimate(A, pooling), estimate(B, pooling)
    assert (a.keepers, a.keeper_share) == (3, 1.0)
    # All successes: Wilson's lower bound is n / (n + z²) = 3 / (3 + 1.6424) = 0.6462.
    assert a.keeper_low == pytest.approx(3 / (3 + 1.2815515655446004**2))
    assert (b.keepers, b.keeper_share, b.keeper_low) == (0, 0.0, 0.0)
    assert not a.enough and estimate(tally(*[4] * 5), pooling).enough


def test_wilson_interval_by_hand():
    # 6 of 10 at z = 1.2815516, z² = 1.6423744: centre (0.6 + 0.0821187)/1.1642374 = 0.5858931,
    # half 1.2815516·√(0.024 + 0.0041059)/1.1642374 = 0.1845413.
    low, high = wilson_interval(6, 10)
    assert low == pytest.approx(0.401352, abs=1e-6)
    assert high == pytest.approx(0.770434, abs=1e-6)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_importance_is_the_count_weighted_spread_of_shrunk_means():
    pooling = pool([A, B, C])
    mean = 23 / 6
    expected = math.sqrt(
        (3 * (2177 / 474 - mean) ** 2 + 2 * (881 / 330 - mean) ** 2 + (737 / 186 - mean) ** 2) / 6
    )
    assert importance([A, B, C], pooling) == pytest.approx(expected)  # 0.8617
    assert expected == pytest.approx(0.861708, abs=1e-6)


def test_leave_one_out_by_hand():
    # Raw: A's 5s predicted by 4.5, its 4 by 5; B's 2 by 3, its 3 by 2; C's lone 4 by the mean
    # of the others, 19/5: errors² 0.25 + 0.25 + 1 + 1 + 1 + 0.04 = 3.54.
    # Shrunk, e.g. A's 4: (10 + (7/24)(19/5)) / (2 + 7/24) = 4.847273, error² 0.717871.
    loo = LeaveOneOut()
    loo.add([A, B, C], pool([A, B, C]))
    assert loo.predictions == 6
    assert loo.raw_squared_error == pytest.approx(3.54)
    assert loo.shrunk_squared_error == pytest.approx(249225846 / 72675625)  # 3.42929
    assert loo.shrunk_rmse < loo.raw_rmse


def test_no_difference_between_options_floors_the_between_variance():
    same = [tally(3, 4, 5), tally(5, 4, 3), tally(4, 3, 5)]
    pooling = pool(same)
    assert pooling.between_floored
    assert pooling.between_variance == MIN_BETWEEN_VARIANCE
    assert pooling.prior_strength == pytest.approx(1.0 / MIN_BETWEEN_VARIANCE)  # σ² = 1


def test_identical_ratings_still_leave_doubt():
    pooling = pool([tally(5, 5), tally(5)])
    assert pooling.within_variance == MIN_WITHIN_VARIANCE
    result = estimate(tally(5, 5), pooling)
    assert result.low < 5.0


def test_one_rating_per_option_takes_the_whole_spread_as_noise():
    # Within and between cannot be told apart: σ² is the sample variance of 1, 3, 5 = 4.
    pooling = pool([tally(1), tally(3), tally(5)])
    assert pooling.within_variance == pytest.approx(4.0)
    assert pooling.between_floored
