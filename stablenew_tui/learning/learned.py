"""What ratings say about each template's options, as beliefs for `--mode learned`.

Only images drawn from a template teach about that template's segments (a segment index means
nothing in another template). Each option's belief is the report's empirical-Bayes posterior:
its shrunk mean and posterior standard deviation; an option nobody rated gets the prior, the
overall mean with the spread the options show around it.
"""

from __future__ import annotations

import math
from pathlib import Path

from stablenew_tui.learning.factors import PROMPT
from stablenew_tui.learning.rated_images import RatedImage, load_rated_images
from stablenew_tui.learning.report import option_tallies
from stablenew_tui.learning.stats import estimate, pool, posterior_sd
from stablenew_tui.prompts.learned import OptionBelief, SegmentBeliefs, TemplateBeliefs


def template_beliefs(images: list[RatedImage]) -> dict[str, TemplateBeliefs]:
    """Beliefs by template text, then by segment index."""
    beliefs: dict[str, dict[int, SegmentBeliefs]] = {}
    for factor, options in option_tallies(images).items():
        if factor.stage != PROMPT:
            continue
        pooling = pool([option.tally for option in options.values()])
        known = {
            option.usual_setting(): OptionBelief(
                estimate(option.tally, pooling).shrunk,
                posterior_sd(option.tally.count, pooling),
            )
            for option in options.values()
        }
        prior = OptionBelief(pooling.mean, math.sqrt(pooling.between_variance))
        beliefs.setdefault(factor.template, {})[int(factor.setting)] = SegmentBeliefs(known, prior)
    return dict(beliefs)


def load_beliefs(data_dir: Path) -> dict[str, TemplateBeliefs]:
    """Beliefs from the ratings and records in the data folder."""
    return template_beliefs(load_rated_images(data_dir).images)
