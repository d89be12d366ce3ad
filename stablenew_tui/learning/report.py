"""The learning report: for every factor, how its options are rated, shrunk toward the mean,
with intervals and keeper shares, the factors that matter most first.

How much a factor matters is `stats.importance`: the count-weighted spread of its options'
shrunk means, in stars. Shrinking first means an option with two lucky ratings cannot make a
factor look important. Factors with a single option compare nothing and are left out; so is a
later stage's setting that always equals an earlier stage's (img2img inheriting the txt2img
sampler), which would only repeat it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stablenew_tui.learning.factors import IMAGE_STAGES, Factor
from stablenew_tui.learning.rated_images import RatedImage
from stablenew_tui.learning.stats import (
    LeaveOneOut,
    OptionEstimate,
    Pooling,
    Tally,
    estimate,
    importance,
    pool,
)


@dataclass(frozen=True)
class OptionReport:
    value: str  # as shown
    setting: Any  # the recorded value most used behind it: what applying it sets
    estimate: OptionEstimate


@dataclass(frozen=True)
class FactorReport:
    factor: Factor
    pooling: Pooling
    importance: float
    options: list[OptionReport]  # best shrunk mean first


@dataclass
class LearnReport:
    rated_images: int
    mean: float
    factors: list[FactorReport]  # most important first
    loo: LeaveOneOut
    unmatched: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class _Option:
    tally: Tally = field(default_factory=Tally)
    settings: dict[Any, int] = field(default_factory=dict)  # recorded value → times

    def usual_setting(self) -> Any:
        return max(self.settings.items(), key=lambda item: item[1])[0]


def option_tallies(images: list[RatedImage]) -> dict[Factor, dict[str, _Option]]:
    """Every factor's options with their ratings, without the later-stage factors that only
    repeat an earlier stage."""
    options_of: dict[Factor, dict[str, _Option]] = {}
    differs: set[Factor] = set()
    for image in images:
        counts_index = image.rating - 1
        factors = image.factors
        for factor, (shown, recorded) in factors.items():
            options = options_of.get(factor)
            if options is None:
                options = options_of[factor] = {}
            option = options.get(shown)
            if option is None:
                option = options[shown] = _Option()
            option.tally.counts[counts_index] += 1
            option.settings[recorded] = option.settings.get(recorded, 0) + 1
            if factor not in differs and _adds_to_earlier_stages(factor, shown, factors):
                differs.add(factor)
    return {
        factor: options
        for factor, options in options_of.items()
        if factor in differs or factor.stage not in IMAGE_STAGES[1:]
    }


def _adds_to_earlier_stages(factor: Factor, shown: str, factors: dict) -> bool:
    if factor.stage not in IMAGE_STAGES[1:]:
        return True
    for stage in IMAGE_STAGES[: IMAGE_STAGES.index(factor.stage)]:
        earlier = factors.get(Factor(stage, factor.setting))
        if earlier is not None:
            return earlier[0] != shown
    return True  # no earlier stage has this setting: it is news


def build_report(
    images: list[RatedImage], *, unmatched: int = 0, problems: list[str] | None = None
) -> LearnReport:
    loo = LeaveOneOut()
    factors = []
    for factor, options in option_tallies(images).items():
        if len(options) < 2:
            continue
        tallies = [option.tally for option in options.values()]
        pooling = pool(tallies)
        loo.add(tallies, pooling)
        reports = [
            OptionReport(shown, option.usual_setting(), estimate(option.tally, pooling))
            for shown, option in options.items()
        ]
        reports.sort(key=lambda o: (-o.estimate.shrunk, -o.estimate.count, o.value))
        factors.append(FactorReport(factor, pooling, importance(tallies, pooling), reports))
    factors.sort(key=lambda f: (-f.importance, f.factor))
    mean = sum(image.rating for image in images) / len(images) if images else 0.0
    return LearnReport(len(images), mean, factors, loo, unmatched, list(problems or []))
