"""Which models, VAEs, samplers, schedulers and upscalers to list first (★) in the dropdowns.

An option is a favourite when its shrunk mean rating (see `stats`: pulled toward the overall
mean by a prior strength the ratings themselves set) is high, so a few lucky images do not
outrank many good ones. Each favourite carries its count and shrunk mean for the dropdown to
show.
"""

from __future__ import annotations

from dataclasses import dataclass

from stablenew_tui.learning.factors import Factor
from stablenew_tui.learning.rated_images import RatedImage
from stablenew_tui.learning.report import option_tallies
from stablenew_tui.learning.stats import estimate, pool

FAVOURITE_MIN_SCORE = 3.5

# The catalog list a dropdown offers → the factor its ratings are gathered under.
FACTOR_OF_LIST = {
    "models": Factor("txt2img", "checkpoint"),
    "vaes": Factor("txt2img", "vae"),
    "samplers": Factor("txt2img", "sampler"),
    "schedulers": Factor("txt2img", "scheduler"),
    "upscalers": Factor("upscale", "upscaler"),
}


@dataclass(frozen=True)
class Favourite:
    value: str
    count: int  # rated images made with it
    mean: float  # their shrunk mean rating


def favourites(images: list[RatedImage]) -> dict[str, list[Favourite]]:
    """Favourites per catalog list, best first."""
    tallies = option_tallies(images)
    found: dict[str, list[Favourite]] = {}
    for list_name, factor in FACTOR_OF_LIST.items():
        options = tallies.get(factor)
        if not options:
            continue
        pooling = pool([option.tally for option in options.values()])
        scored = [
            Favourite(value, option.tally.count, estimate(option.tally, pooling).shrunk)
            for value, option in options.items()
        ]
        best = [f for f in scored if f.mean >= FAVOURITE_MIN_SCORE]
        if best:
            found[list_name] = sorted(best, key=lambda f: (-f.mean, -f.count, f.value))
    return found
