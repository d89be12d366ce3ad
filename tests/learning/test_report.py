"""The learning report on synthetic users whose tastes are known."""

from __future__ import annotations

import math
import random

from stablenew_tui.learning.factors import PROMPT, Factor
from stablenew_tui.learning.rated_images import join_ratings
from stablenew_tui.learning.ratings import Rating
from stablenew_tui.learning.report import build_report
from stablenew_tui.learning.stats import Tally, estimate, pool
from stablenew_tui.prompts import Template
from tests.learning.synthetic import (
    SyntheticUser,
    draw,
    prompt_fields,
    rated_session,
    record,
    txt2img_inputs,
)

TASTE = SyntheticUser(
    {
        "txt2img checkpoint": {"dreamshaper_8": 1.0, "juggernaut_xl": 0.3, "realvis_v4": -0.8},
        "segment 1": {"gold": 0.6, "blue": -0.4},
    }
)


def _name(factor: Factor) -> str:
    return f"segment {factor.setting}" if factor.stage == PROMPT else factor.label


def test_the_ranking_recovers_known_effects():
    session = rated_session(TASTE, images=800, seed=3)
    report = build_report(join_ratings(session.ratings, session.records).images)
    names = [_name(factor.factor) for factor in report.factors]
    assert names[:2] == ["txt2img checkpoint", "segment 1"]
    checkpoints = [option.value for option in report.factors[0].options]
    assert checkpoints == ["dreamshaper_8", "juggernaut_xl", "sd_xl_base_1.0", "realvis_v4"]
    colours = [option.value for option in report.factors[1].options]
    assert colours[0] == "gold" and colours[-1] == "blue"
    for factor in report.factors[2:]:  # sampler, CFG and the other segments do not matter
        assert factor.importance < 0.15, (_name(factor.factor), factor.importance)


def test_shrinkage_beats_raw_means_when_evidence_is_thin():
    many_options = SyntheticUser({"segment 1": {}}, noise=1.0)
    template = "{" + "|".join(f"o{n}" for n in range(40)) + "} fox"
    session = rated_session(many_options, images=120, seed=5, template=template)
    report = build_report(join_ratings(session.ratings, session.records).images)
    assert report.loo.predictions > 0
    assert report.loo.shrunk_rmse < report.loo.raw_rmse
    segment = next(f for f in report.factors if f.factor.stage == PROMPT)
    assert not all(option.estimate.enough for option in segment.options)


def _job(stages: dict[str, dict], job: str = "run-00001") -> list[dict]:
    return [
        record(job, stage, inputs, f"/out/{stage}/1.png", 1_800_000_000.0 + n)
        for n, (stage, inputs) in enumerate(stages.items())
    ]


def test_a_rating_carries_its_earlier_stages_settings():
    template = Template.parse("a {red|blue} fox")
    base = txt2img_inputs(prompt_fields(draw(template, 1)), "m1", "Euler a", 7.0, 1)
    records = _job({
        "txt2img": {**base, "hires": True, "denoising_strength": 0.7},
        "img2img": {**base, "model": "m2", "denoising_strength": 0.35, "width": 1024,
                    "height": 1024},
        "upscale": {**{k: base[k] for k in ("prompt", "template", "choices", "locks", "mode",
                                            "prompt_seed", "seed")},
                    "upscaler": "R-ESRGAN 4x+", "upscale_factor": 2.0},
    })  # fmt: skip
    upscaled = join_ratings([Rating("/out/upscale/1.png", 5, "run-00001")], records).images[0]
    labels = {factor.label: value[0] for factor, value in upscaled.factors.items()}
    assert labels["txt2img checkpoint"] == "m1" and labels["img2img checkpoint"] == "m2"
    assert labels["txt2img hires"] == "on" and labels["txt2img denoising"] == "0.6–0.8"
    assert labels["img2img denoising"] == "0.2–0.4" and labels["img2img size"] == "1024×1024"
    assert labels["upscale upscaler"] == "R-ESRGAN 4x+"
    assert labels["segment 1 {red|blue}"] in ("red", "blue")

    first = join_ratings([Rating("/out/txt2img/1.png", 2, "run-00001")], records).images[0]
    assert {factor.stage for factor in first.factors} == {"txt2img", PROMPT}


def test_later_stages_repeating_earlier_settings_are_left_out():
    template = Template.parse("a fox")
    records, ratings = [], []
    for n in range(6):
        sampler = ("Euler a", "DDIM")[n % 2]
        base = txt2img_inputs(prompt_fields(draw(template, n)), "m1", sampler, 7.0, n)
        job = f"run-{n:05d}"
        records += [
            record(job, "txt2img", base, f"/out/t/{n}.png", 1.0),
            record(job, "img2img", {**base, "denoising_strength": 0.2 + 0.4 * (n % 2)},
                   f"/out/i/{n}.png", 2.0),
        ]  # fmt: skip
        ratings.append(Rating(f"/out/i/{n}.png", 1 + 4 * (n % 2), job))
    report = build_report(join_ratings(ratings, records).images)
    labels = [factor.factor.label for factor in report.factors]
    assert "txt2img sampler" in labels and "img2img denoising" in labels
    assert "img2img sampler" not in labels  # it only repeats txt2img's


def test_held_segments_are_not_compared():
    template = Template.parse("a {red|blue} {cat|dog}")
    records, ratings = [], []
    for n in range(8):
        prompt = prompt_fields(draw(template, n))
        prompt["locks"] = {"2": prompt["choices"]["2"]}
        records.append(record(f"j-{n}", "txt2img", txt2img_inputs(prompt, "m", "Euler a", 7.0, n),
                              f"/o/{n}.png", 1.0))  # fmt: skip
        ratings.append(Rating(f"/o/{n}.png", 3 + n % 2, f"j-{n}"))
    images = join_ratings(ratings, records).images
    assert all({f.setting for f in image.factors if f.stage == PROMPT} == {"1"} for image in images)


def test_filters_and_unmatched_ratings():
    session = rated_session(TASTE, images=10, seed=1)
    ratings = [*session.ratings, Rating("/elsewhere.png", 4, "gone")]
    joined = join_ratings(ratings, session.records, since=1_800_000_005.0)
    assert len(joined.images) == 5 and joined.unmatched == 1
    assert join_ratings(ratings, session.records, template="other").images == []


def test_80_percent_intervals_cover_about_80_percent_of_true_means():
    """200 options with true means spread around 3, 3–15 ratings each: the intervals should
    hold the true mean rating (the expectation of the rounded, clipped rating) ~80 % of the
    time."""
    rng = random.Random(11)
    tallies, truths = [], []
    for _ in range(200):
        latent = rng.gauss(3.0, 0.6)
        tally = Tally()
        for _ in range(rng.randint(3, 15)):
            tally.add(min(max(round(latent + rng.gauss(0, 1)), 1), 5))
        tallies.append(tally)
        truths.append(_expected_rating(latent))
    pooling = pool(tallies)
    covered = sum(
        estimate(tally, pooling).low <= truth <= estimate(tally, pooling).high
        for tally, truth in zip(tallies, truths, strict=True)
    )
    assert 0.72 <= covered / 200 <= 0.88, covered


def _expected_rating(latent: float) -> float:
    """E[clip(round(latent + N(0, 1)), 1, 5)]: each star's probability from the normal CDF."""

    def below(edge: float) -> float:
        return 0.5 * (1 + math.erf((edge - latent) / math.sqrt(2)))

    edges = [-math.inf, 1.5, 2.5, 3.5, 4.5, math.inf]
    return sum(star * (below(edges[star]) - below(edges[star - 1])) for star in range(1, 6))
