"""The statistics behind the learning report, suggestions and learned sampling. Pure Python.

Ratings are whole stars 1–5, so each option of a factor (a sampler, a CFG band, a segment's
option) is summarised by how many ratings of each star it got (`Tally`).

Empirical Bayes (a one-way random-effects model): an option's true mean rating is drawn
around the overall mean with variance τ² (between options); its ratings scatter around the
option's true mean with variance σ² (within an option). Both come from the data by the method
of moments of the one-way ANOVA:

    σ² = SSW / (N − k)                   τ² = (MSB − σ²) / n0,  MSB = SSB / (k − 1),
                                          n0 = (N − Σ nᵢ² / N) / (k − 1)

An option's shrunk mean is then its posterior mean, (Σ its ratings + m·overall) / (n + m) with
prior strength m = σ² / τ²: the overall mean counts as m ratings. Its posterior variance is
σ² / (n + m); the 80 % interval is the posterior mean ± z₀.₉₀ standard deviations, clipped to
the 1–5 scale. τ² is floored so that "no visible difference" means strong pooling, not an
infinite prior; σ² is floored so that a handful of identical ratings does not claim certainty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

STARS = (1, 2, 3, 4, 5)
KEEPER = 4  # a rating this high means "keep it"
Z80 = 1.2815515655446004  # the standard normal's 90th percentile: a two-sided 80 % interval
MIN_BETWEEN_VARIANCE = 0.01  # options' true means differing by ~0.1 star is always plausible
MIN_WITHIN_VARIANCE = 0.25  # ratings of one option scatter by at least half a star
ENOUGH_RATINGS = 5  # fewer ratings than this for an option is "too little evidence"


@dataclass
class Tally:
    """How many ratings of each star an option got."""

    counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])

    def add(self, rating: int) -> None:
        self.counts[rating - 1] += 1

    @property
    def count(self) -> int:
        return sum(self.counts)

    @property
    def total(self) -> int:
        return sum(star * n for star, n in zip(STARS, self.counts, strict=True))

    @property
    def total_squares(self) -> int:
        return sum(star * star * n for star, n in zip(STARS, self.counts, strict=True))

    @property
    def keepers(self) -> int:
        return sum(self.counts[KEEPER - 1 :])


@dataclass(frozen=True)
class Pooling:
    """What the options of one factor share: the prior every option is shrunk toward."""

    mean: float  # of every rating of the factor
    count: int  # every rating of the factor
    within_variance: float  # σ²
    between_variance: float  # τ²
    between_floored: bool  # τ² sits at its floor: the data show no difference between options

    @property
    def prior_strength(self) -> float:
        """m = σ² / τ²: how many ratings' worth the overall mean weighs in each option."""
        return self.within_variance / self.between_variance


@dataclass(frozen=True)
class OptionEstimate:
    count: int
    mean: float  # raw: the plain average of its ratings
    shrunk: float
    low: float  # 80 % interval of the true mean
    high: float
    keepers: int  # ratings of 4 or 5
    keeper_share: float
    keeper_low: float  # Wilson lower bound (80 %, two-sided) of the keeper share

    @property
    def enough(self) -> bool:
        return self.count >= ENOUGH_RATINGS


def pool(tallies: Sequence[Tally]) -> Pooling:
    """Estimate σ² and τ² from the options' tallies (method of moments)."""
    counts = [tally.count for tally in tallies]
    totals = [tally.total for tally in tallies]
    n, k = sum(counts), sum(1 for count in counts if count)
    if n == 0:
        return Pooling(0.0, 0, MIN_WITHIN_VARIANCE, MIN_BETWEEN_VARIANCE, True)
    mean = sum(totals) / n
    within_ss = sum(t.total_squares - t.total**2 / t.count for t in tallies if t.count)
    if n > k:
        within = within_ss / (n - k)
    else:  # one rating per option: within and between cannot be told apart; assume noise
        squares = sum(tally.total_squares for tally in tallies)
        within = (squares - n * mean * mean) / (n - 1) if n > 1 else 0.0
    within = max(within, MIN_WITHIN_VARIANCE)
    between = 0.0
    if k > 1:
        between_ss = sum(c * (t / c - mean) ** 2 for c, t in zip(counts, totals, strict=True) if c)
        n0 = (n - sum(c * c for c in counts) / n) / (k - 1)
        between = (between_ss / (k - 1) - within) / n0
    floored = between < MIN_BETWEEN_VARIANCE
    return Pooling(mean, n, within, max(between, MIN_BETWEEN_VARIANCE), floored)


def estimate(tally: Tally, pooling: Pooling) -> OptionEstimate:
    n, m = tally.count, pooling.prior_strength
    shrunk = (tally.total + m * pooling.mean) / (n + m)
    spread = Z80 * math.sqrt(pooling.within_variance / (n + m))
    keepers = tally.keepers
    return OptionEstimate(
        count=n,
        mean=tally.total / n if n else pooling.mean,
        shrunk=shrunk,
        low=max(shrunk - spread, STARS[0]),
        high=min(shrunk + spread, STARS[-1]),
        keepers=keepers,
        keeper_share=keepers / n if n else 0.0,
        keeper_low=wilson_interval(keepers, n)[0],
    )


def posterior_sd(count: int, pooling: Pooling) -> float:
    """The standard deviation of an option's true mean after `count` ratings."""
    return math.sqrt(pooling.within_variance / (count + pooling.prior_strength))


def wilson_interval(successes: int, trials: int, z: float = Z80) -> tuple[float, float]:
    """Wilson's score interval for a proportion; (0, 1) without trials."""
    if trials == 0:
        return 0.0, 1.0
    share = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (share + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(share * (1 - share) / trials + z2 / (4 * trials * trials)) / denominator
    return max(centre - half, 0.0), min(centre + half, 1.0)


def importance(tallies: Sequence[Tally], pooling: Pooling) -> float:
    """How much a factor matters, in stars: the spread of its options' shrunk means around
    the overall mean, each weighted by its number of ratings (a count-weighted standard
    deviation). A factor whose options all look alike, or lack evidence, scores near 0."""
    if pooling.count == 0:
        return 0.0
    squares = sum(
        tally.count * (estimate(tally, pooling).shrunk - pooling.mean) ** 2
        for tally in tallies
        if tally.count
    )
    return math.sqrt(squares / pooling.count)


@dataclass
class LeaveOneOut:
    """Squared errors of predicting each rating from the others: by its option's raw mean and
    by its shrunk mean. σ² and τ² stay those of all the data; the overall mean and the
    option's own ratings leave the predicted one out."""

    predictions: int = 0
    raw_squared_error: float = 0.0
    shrunk_squared_error: float = 0.0

    def add(self, tallies: Sequence[Tally], pooling: Pooling) -> None:
        n, m = pooling.count, pooling.prior_strength
        if n < 2:
            return
        grand_total = pooling.mean * n
        for tally in tallies:
            count, total = tally.count, tally.total
            for star, times in zip(STARS, tally.counts, strict=True):
                if not times:
                    continue
                others_mean = (grand_total - star) / (n - 1)
                rest, rest_count = total - star, count - 1
                raw = rest / rest_count if rest_count else others_mean
                shrunk = (rest + m * others_mean) / (rest_count + m)
                self.predictions += times
                self.raw_squared_error += times * (raw - star) ** 2
                self.shrunk_squared_error += times * (shrunk - star) ** 2

    @property
    def raw_rmse(self) -> float:
        return math.sqrt(self.raw_squared_error / self.predictions) if self.predictions else 0.0

    @property
    def shrunk_rmse(self) -> float:
        return math.sqrt(self.shrunk_squared_error / self.predictions) if self.predictions else 0.0
