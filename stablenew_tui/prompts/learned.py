"""Learned sampling: a segment's options drawn by Thompson sampling from what the user rated.

What is known about each option comes in as data (`SegmentBeliefs`, built by the learning
package from ratings of images drawn from the same template); the prompt engine reads no files.

The belief about an option is a Normal posterior of the mean rating its images get (the
empirical-Bayes posterior of the learning report: shrunk mean, posterior standard deviation).
Ratings are averages of stars, not successes and failures, so a Normal fits them better than
a Beta, and it is the same model the report shows. An option no rated image used gets the
prior: the overall mean, with the spread options have around it.

One draw: with probability `FLOOR` × K (K options) a uniform pick, otherwise Thompson sampling
(a mean drawn from each option's posterior; the highest wins). Every option therefore keeps at
least `FLOOR` probability, however badly it is rated, and options are drawn in proportion to
how likely each is to be the best. A segment of 20 or more options is drawn as in random mode:
a 5 % floor for each leaves no probability to learn with. Normal variates come from the
prompt's own uniform stream (Box–Muller), so a prompt seed gives the same prompt everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

FLOOR = 0.05  # the least probability any option keeps
MAX_LEARNED_OPTIONS = int(1 / FLOOR)  # at this many options the floors leave nothing to learn
_TAU = 2 * math.pi


@dataclass(frozen=True)
class OptionBelief:
    mean: float  # posterior mean of the option's mean rating
    sd: float  # its posterior standard deviation


@dataclass(frozen=True)
class SegmentBeliefs:
    options: Mapping[str, OptionBelief]  # by the option's text, as records hold it
    unseen: OptionBelief  # the prior, for an option no rated image used


# A template's beliefs: by segment index.
TemplateBeliefs = Mapping[int, SegmentBeliefs]


class LearnedDraw:
    """Draws one segment's option position among `positions` (those with a weight above 0)."""

    __slots__ = ("_beliefs", "_positions", "_uniform")

    def __init__(self, positions: Sequence[int], beliefs: Sequence[OptionBelief]) -> None:
        self._positions = tuple(positions)
        self._beliefs = tuple((belief.mean, belief.sd) for belief in beliefs)
        self._uniform = min(FLOOR * len(self._positions), 1.0)

    @classmethod
    def for_options(
        cls, texts: Sequence[str | None], weights: Sequence[float], beliefs: SegmentBeliefs
    ) -> LearnedDraw | None:
        """A draw over options with these texts (None: the text varies, as with nested
        constructs, so only the prior applies) and weights; None when learning cannot help."""
        positions = [position for position, weight in enumerate(weights) if weight > 0]
        if not 1 < len(positions) < MAX_LEARNED_OPTIONS:
            return None
        known = beliefs.options
        return cls(
            positions,
            [beliefs.unseen if (text := texts[p]) is None else known.get(text, beliefs.unseen)
             for p in positions],
        )  # fmt: skip

    def choose(self, random: Callable[[], float]) -> int:
        positions = self._positions
        if random() < self._uniform:
            return positions[int(random() * len(positions))]
        best, best_value = 0, -math.inf
        for number, (mean, sd) in enumerate(self._beliefs):
            normal = math.sqrt(-2.0 * math.log(1.0 - random())) * math.cos(_TAU * random())
            value = mean + sd * normal
            if value > best_value:
                best, best_value = number, value
        return positions[best]
