"""Synthetic users for bench/learn.py: known true tastes, 1-star rating noise.

A user's latent score of an image is a base plus the true effect of each option it was made
with; the rating given is the latent score plus Gaussian noise of one star, rounded and kept
to 1–5. The true mean rating of an option, or of an image, is the expectation of that rating.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter

from stablenew_tui.learning.learned import template_beliefs
from stablenew_tui.learning.rated_images import join_ratings
from stablenew_tui.learning.ratings import Rating
from stablenew_tui.learning.stats import ENOUGH_RATINGS, LeaveOneOut, Tally, estimate, pool
from stablenew_tui.prompts import PromptSampler, SamplingMode, Template
from stablenew_tui.prompts.learned import FLOOR
from tests.learning.synthetic import prompt_fields, record, txt2img_inputs

NOISE = 1.0
TEMPLATE = "a {a0|a1|a2|a3} {b0|b1|b2} in {c0|c1|c2|c3|c4}"
IMAGES, PER_RUN = 200, 10  # beliefs are refreshed between runs, as a run reads them at start
TARGET_GAIN = 0.2


def expected_rating(latent: float) -> float:
    """E[clip(round(latent + N(0, NOISE)), 1, 5)], from the normal CDF."""

    def below(edge: float) -> float:
        return 0.5 * (1 + math.erf((edge - latent) / (NOISE * math.sqrt(2))))

    edges = [-math.inf, 1.5, 2.5, 3.5, 4.5, math.inf]
    return sum(star * (below(edges[star]) - below(edges[star - 1])) for star in range(1, 6))


def noisy_rating(latent: float, rng: random.Random) -> int:
    return min(max(round(latent + rng.gauss(0.0, NOISE)), 1), 5)


def shrinkage_accuracy(users: int) -> None:
    """Per user: one factor of 12 options with effects ~ N(0, 0.4²), 120 rated images spread
    unevenly over the options (some get one or two). Error of each option's raw and shrunk mean
    against its true mean rating."""
    rng = random.Random(7)
    raw_errors, shrunk_errors, thin_raw, thin_shrunk = [], [], [], []
    loo = LeaveOneOut()
    for _ in range(users):
        latents = [3.2 + rng.gauss(0.0, 0.4) for _ in range(12)]
        weights = [rng.expovariate(1.0) for _ in latents]
        tallies = [Tally() for _ in latents]
        for option in rng.choices(range(12), weights, k=120):
            tallies[option].add(noisy_rating(latents[option], rng))
        pooling = pool(tallies)
        loo.add(tallies, pooling)
        for tally, latent in zip(tallies, latents, strict=True):
            if not tally.count:
                continue
            truth, result = expected_rating(latent), estimate(tally, pooling)
            raw_errors.append((result.mean - truth) ** 2)
            shrunk_errors.append((result.shrunk - truth) ** 2)
            if tally.count < ENOUGH_RATINGS:
                thin_raw.append(raw_errors[-1])
                thin_shrunk.append(shrunk_errors[-1])
    raw, shrunk = _rmse(raw_errors), _rmse(shrunk_errors)
    print(f"(b) shrunk vs raw means: {users} users × 12 options, 120 ratings each, 1-star noise")
    print(f"  RMSE against the true mean ratings   raw {raw:.3f}   shrunk {shrunk:.3f}"
          f"   {1 - shrunk / raw:.0%} lower")  # fmt: skip
    print(f"  options with < {ENOUGH_RATINGS} ratings ({len(thin_raw)})      "
          f"raw {_rmse(thin_raw):.3f}   shrunk {_rmse(thin_shrunk):.3f}")  # fmt: skip
    print(f"  the report's leave-one-out check on the same ratings: raw {loo.raw_rmse:.3f}, "
          f"shrunk {loo.shrunk_rmse:.3f}")  # fmt: skip


def _rmse(squares: list[float]) -> float:
    return math.sqrt(sum(squares) / len(squares)) if squares else 0.0


def learned_vs_uniform(users: int) -> None:
    """Per user: option effects ~ N(0, 0.5²) in each of three segments; 200 images in runs of
    10, rated as they come, in learned mode and in random mode with the same prompt seeds."""
    rng = random.Random(3)
    template = Template.parse(TEMPLATE)
    gains, by_rank, lowest_user_share = [], Counter(), 1.0
    for user in range(users):
        effects = {
            f"{letter}{n}": rng.gauss(0.0, 0.5)
            for letter, size in zip("abc", (4, 3, 5), strict=True)
            for n in range(size)
        }
        seeds = [user * 10_000 + n for n in range(IMAGES)]
        uniform = _session(template, SamplingMode.RANDOM, effects, seeds, random.Random(user))
        drawn: Counter = Counter()
        learned = _session(
            template, SamplingMode.LEARNED, effects, seeds, random.Random(user), drawn
        )
        gains.append(statistics.fmean(learned) - statistics.fmean(uniform))
        for segment, options in _SEGMENTS.items():  # best option first, by the true effect
            ranked = sorted(options, key=lambda option: -effects[option])
            by_rank.update({(segment, rank): drawn[(segment, o)] for rank, o in enumerate(ranked)})
            lowest_user_share = min(
                lowest_user_share, *(drawn[(segment, o)] / IMAGES for o in options)
            )
    worst = min(by_rank[(segment, len(options) - 1)] / (IMAGES * users)
                for segment, options in _SEGMENTS.items())  # fmt: skip
    best = {segment: by_rank[(segment, 0)] / (IMAGES * users) for segment in _SEGMENTS}
    gain = statistics.fmean(gains)
    print(f"(b) learned vs uniform: {users} users, {IMAGES} images each in runs of {PER_RUN}, "
          f"option effects ~ N(0, 0.5²)")  # fmt: skip
    print(
        f"  mean true rating gained   {gain:+.3f} star   target ≥ +{TARGET_GAIN}: "
        f"{'PASS' if gain >= TARGET_GAIN else 'FAIL'}   (users gaining: "
        f"{sum(g > 0 for g in gains)}/{users}, from {min(gains):+.2f} to {max(gains):+.2f})"
    )
    print(
        f"  each user's worst option  {worst:.1%} of its segment's learned draws (the lowest of "
        f"the three segments, users pooled)   target ≥ {FLOOR:.0%}: "
        f"{'PASS' if worst >= FLOOR else 'FAIL'}"
    )
    print("  each user's best option   " + ", ".join(
        f"{share:.0%}" for share in best.values()) + " of the draws of segments of 4, 3 and 5 "
          "options (uniform: 25 %, 33 %, 20 %)")  # fmt: skip
    print(
        f"  least-drawn option in any one user's 200 images: {lowest_user_share:.1%} (each "
        f"draw gives every option ≥ {FLOOR:.0%}; 200 draws scatter around that)"
    )


# Segment index (as records key it) → its options.
_SEGMENTS = {"1": ("a0", "a1", "a2", "a3"), "2": ("b0", "b1", "b2"),
             "3": ("c0", "c1", "c2", "c3", "c4")}  # fmt: skip


def _session(template, mode, effects, seeds, rng, drawn=None) -> list[float]:
    """The true mean rating of each image of a session; counts each option drawn."""
    ratings, records, truths = [], [], []
    for start in range(0, len(seeds), PER_RUN):
        beliefs = template_beliefs(join_ratings(ratings, records).images).get(template.text)
        sampler = PromptSampler(template, mode=mode, beliefs=beliefs)
        for seed in seeds[start : start + PER_RUN]:
            resolved = next(iter(sampler.prompts([seed])))
            choices = resolved.choice_texts()
            latent = 3.0 + sum(effects[text] for text in choices.values())
            truths.append(expected_rating(latent))
            job, path = f"u-{seed}", f"/out/{seed}.png"
            inputs = txt2img_inputs(prompt_fields(resolved), "m", "Euler a", 7.0, seed)
            records.append(record(job, "txt2img", inputs, path, float(seed)))
            ratings.append(Rating(path, noisy_rating(latent, rng), job))
            if drawn is not None:
                drawn.update((str(index), text) for index, text in choices.items())
    return truths
