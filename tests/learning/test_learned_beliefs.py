"""Beliefs for learned sampling, from ratings of images of the same template."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from stablenew_tui.cli import main
from stablenew_tui.learning.learned import template_beliefs
from stablenew_tui.learning.rated_images import join_ratings
from stablenew_tui.learning.report import build_report
from tests.learning.synthetic import TEMPLATE, SyntheticUser, rated_session
from tests.learning.test_learn_cli import _write

GOLD_LOVER = SyntheticUser({"segment 1": {"gold": 1.5, "red": -0.5, "blue": -0.5}})


def test_beliefs_are_the_reports_posteriors_per_template():
    session = rated_session(GOLD_LOVER, images=200, seed=8)
    images = join_ratings(session.ratings, session.records).images
    beliefs = template_beliefs(images)
    assert set(beliefs) == {TEMPLATE} and set(beliefs[TEMPLATE]) == {1, 2, 3}
    colours = beliefs[TEMPLATE][1]
    report = build_report(images)
    segment = next(f for f in report.factors if f.factor.setting == "1")
    for option in segment.options:
        assert colours.options[option.value].mean == pytest.approx(option.estimate.shrunk)
        assert colours.options[option.value].sd < 0.3
    assert max(colours.options, key=lambda text: colours.options[text].mean) == "gold"
    assert colours.unseen.mean == pytest.approx(segment.pooling.mean)


def test_another_templates_ratings_teach_nothing():
    liked = rated_session(GOLD_LOVER, images=50, seed=1)
    other = rated_session(GOLD_LOVER, images=50, seed=2, template="a {gold|red} car", run="cars")
    ratings, records = liked.ratings + other.ratings, liked.records + other.records
    beliefs = template_beliefs(join_ratings(ratings, records).images)
    alone = template_beliefs(join_ratings(liked.ratings, liked.records).images)
    assert beliefs[TEMPLATE] == alone[TEMPLATE]
    assert set(beliefs["a {gold|red} car"][1].options) == {"gold", "red"}


def test_prompts_expand_learned_favours_what_was_rated_higher(capsys):
    _write(rated_session(GOLD_LOVER, images=120, seed=3))
    argv = ["prompts", "expand", TEMPLATE, "--count", "400", "--seed", "1", "--json"]
    assert main([*argv, "--mode", "learned"]) == 0
    learned = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main([*argv, "--mode", "random"]) == 0
    uniform = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    colours = Counter(prompt["choices"][0]["text"] for prompt in learned)
    assert all(prompt["mode"] == "learned" for prompt in learned)
    assert colours["gold"] > 2 * Counter(p["choices"][0]["text"] for p in uniform)["gold"]
    assert min(colours.values()) >= 400 * 0.05 * 0.6 and len(colours) == 4
