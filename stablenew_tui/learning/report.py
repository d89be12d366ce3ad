"""The learning report: for every factor, how its options are rated, shrunk toward the mean,
with intervals and keeper shares, the factors that matter most first.

How much a factor matters is `stats.importance`: the count-weighted spread of its options'
shrunk means, in stars. Shrinking first means an option with two lucky ratings cannot make a
factor look important. Factors with a single option compare nothing and are left out; so is a
later stage's setting that always equals an earlier stage's (img2img inheriting the txt2img
sampler), which would only repeat it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stablenew_tui.learning.factors import IMAGE_STAGES, Factor, Value
from stablenew_tui.learning.rated_images import RatedImage
from stablenew_tui.learning.record_scan import collector_paused
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

    def add(self, recorded: Any, rating: int, times: int) -> None:
        self.tally.counts[rating - 1] += times
        self.settings[recorded] = self.settings.get(recorded, 0) + times

    def add_many(self, recorded: Any, counts: list[int]) -> None:
        """Ratings of images with the same option: `counts[s]` of them rated s + 1."""
        tally_counts = self.tally.counts
        for star, times in enumerate(counts):
            tally_counts[star] += times
        self.settings[recorded] = self.settings.get(recorded, 0) + sum(counts)

    def usual_setting(self) -> Any:
        return max(self.settings.items(), key=lambda item: item[1])[0]


def option_tallies(images: list[RatedImage]) -> dict[Factor, dict[str, _Option]]:
    """Every factor's options with their ratings, without the later-stage factors that only
    repeat an earlier stage. Images sharing their settings are counted together first."""
    options_of: dict[Factor, dict[str, _Option]] = {}
    stars_of_settings: dict[int, tuple[Mapping[Factor, Value], list[int]]] = {}
    for image in images:
        shared = stars_of_settings.get(id(image.settings))
        if shared is None:
            shared = stars_of_settings[id(image.settings)] = (image.settings, [0] * 5)
        shared[1][image.rating - 1] += 1
    same_choice = Counter(
        (factor, shown, recorded, image.rating)
        for image in images
        for factor, (shown, recorded) in image.choices.items()
    )
    for (factor, shown, recorded, rating), times in same_choice.items():
        _option(options_of, factor, shown).add(recorded, rating, times)
    differs: set[Factor] = set()
    for settings, stars in stars_of_settings.values():
        for factor, (shown, recorded) in settings.items():
            _option(options_of, factor, shown).add_many(recorded, stars)
            if factor not in differs and _adds_to_earlier_stages(factor, shown, settings):
                differs.add(factor)
    return {
        factor: options
        for factor, options in options_of.items()
        if factor in differs or factor.stage not in IMAGE_STAGES[1:]
    }


def _option(options_of: dict[Factor, dict[str, _Option]], factor: Factor, shown: str) -> _Option:
    options = options_of.get(factor)
    if options is None:
        options = options_of[factor] = {}
    option = options.get(shown)
    if option is None:
        option = options[shown] = _Option()
    return option


def _adds_to_earlier_stages(factor: Factor, shown: str, settings: Mapping) -> bool:
    if factor.stage not in IMAGE_STAGES[1:]:
        return True
    for stage in IMAGE_STAGES[: IMAGE_STAGES.index(factor.stage)]:
        earlier = settings.get(Factor(stage, factor.setting))
        if earlier is not None:
            return bool(earlier[0] != shown)
    return True  # no earlier stage has this setting: it is news


def build_report(
    images: list[RatedImage], *, unmatched: int = 0, problems: list[str] | None = None
) -> LearnReport:
    loo = LeaveOneOut()
    factors = []
    with collector_paused():
        tallied = option_tallies(images)
    for factor, options in tallied.items():
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
