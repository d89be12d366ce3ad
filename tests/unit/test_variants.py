"""A run spread over checkpoints, VAEs and hypernetworks: which jobs, in which order, with which
seeds, as StableNew's variant planner fanned out and rotated."""

from __future__ import annotations

import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.jobs import PromptSpec, plan_run
from stablenew_tui.pipeline.settings import merge_settings
from stablenew_tui.pipeline.variants import fan_out


def settings(**sections):
    return merge_settings(("test", sections))


def images(*prompts: str, each: int = 1, model: str | None = None) -> list:
    return [(n, PromptSpec(prompt=text, model=model)) for n, text in enumerate(prompts)
            for _ in range(each)]  # fmt: skip


def weights(planned) -> list[tuple]:
    return [
        (spec.prompt, spec.model, spec.vae, spec.hypernetwork, spec.hypernetwork_strength)
        for _, spec in planned.job_prompts
    ]


def test_one_model_or_none_changes_nothing_but_names_the_model():
    planned = fan_out(images("a", "b", each=2), settings(txt2img={"model": "m1"}))
    assert [spec.model for _, spec in planned.job_prompts] == ["m1"] * 4
    assert planned.image_numbers == [0, 1, 2, 3]
    unnamed = fan_out(images("a"), settings())
    assert weights(unnamed) == [("a", None, None, None, None)]


def test_several_models_make_every_image_on_each_grouped_by_model_with_shared_seeds():
    planned = fan_out(images("a", "b", each=2), settings(txt2img={"model": ["m1", "m2"]}))
    assert [(spec.prompt, spec.model) for _, spec in planned.job_prompts] == [
        ("a", "m1"), ("a", "m1"), ("b", "m1"), ("b", "m1"),
        ("a", "m2"), ("a", "m2"), ("b", "m2"), ("b", "m2"),
    ]  # fmt: skip
    assert planned.image_numbers == [0, 1, 2, 3, 0, 1, 2, 3]
    _, jobs = plan_run(
        planned.job_prompts, settings(), base_seed=100, name="t", folder="/tmp/x",
        image_numbers=planned.image_numbers,
    )  # fmt: skip
    assert [job.index for job in jobs] == list(range(8))
    assert [job.seed for job in jobs] == [100, 101, 102, 103] * 2  # one image, one seed


def test_models_times_vaes_times_hypernetworks_in_that_order():
    chosen = settings(
        txt2img={"model": ["m1", "m2"], "vae": ["v1", "v2"]},
        variants={"hypernetworks": [{"name": "h", "strength": 0.5}, "None"]},
    )
    assert weights(fan_out(images("a"), chosen)) == [
        ("a", "m1", "v1", "h", 0.5), ("a", "m1", "v1", None, None),
        ("a", "m1", "v2", "h", 0.5), ("a", "m1", "v2", None, None),
        ("a", "m2", "v1", "h", 0.5), ("a", "m2", "v1", None, None),
        ("a", "m2", "v2", "h", 0.5), ("a", "m2", "v2", None, None),
    ]  # fmt: skip


def test_rotate_gives_each_prompt_the_next_combination_and_groups_by_model():
    chosen = settings(txt2img={"model": ["m1", "m2", "m3"]}, variants={"mode": "rotate"})
    planned = fan_out(images("a", "b", "c", "d", each=2), chosen)
    assert [(spec.prompt, spec.model) for _, spec in planned.job_prompts] == [
        ("a", "m1"), ("a", "m1"), ("d", "m1"), ("d", "m1"),
        ("b", "m2"), ("b", "m2"), ("c", "m3"), ("c", "m3"),
    ]  # fmt: skip
    assert planned.image_numbers == [0, 1, 6, 7, 2, 3, 4, 5]


def test_rotate_turns_with_each_drawn_prompt_of_one_template():
    """Images of one template that draw different texts are different prompts."""
    chosen = settings(variants={"mode": "rotate", "hypernetworks": ["h1", "h2"]})
    drawn = [(0, PromptSpec(prompt=text)) for text in ("red", "red", "blue", "green")]
    planned = fan_out(drawn, chosen)
    assert [(spec.prompt, spec.hypernetwork) for _, spec in planned.job_prompts] == [
        ("red", "h1"), ("red", "h1"), ("blue", "h2"), ("green", "h1"),
    ]  # fmt: skip


def test_a_prompt_naming_its_model_keeps_it_once_and_joins_that_model_group():
    own = [(0, PromptSpec(prompt="a", model="m2")), (1, PromptSpec(prompt="b"))]
    planned = fan_out(own, settings(txt2img={"model": ["m1", "m2"]}))
    assert [(spec.prompt, spec.model) for _, spec in planned.job_prompts] == [
        ("a", "m2"),
        ("b", "m2"),
        ("b", "m1"),
    ]  # groups in the order each model is first used
    assert planned.image_numbers == [0, 1, 1]


def test_model_lists_are_checked_and_one_name_stays_a_name():
    assert settings(txt2img={"model": ["m1"]}).txt2img.model == "m1"
    assert settings(txt2img={"model": []}).txt2img.model is None
    assert settings(txt2img={"vae": ["a", "b"]}).txt2img.vaes == ["a", "b"]
    with pytest.raises(InputError, match=r"txt2img\.model: .*listed twice"):
        settings(txt2img={"model": ["m1", "m1"]})
    with pytest.raises(InputError, match=r"variants\.mode"):
        settings(variants={"mode": "shuffle"})
    with pytest.raises(InputError, match=r"variants\.hypernetworks\.0\.strength"):
        settings(variants={"hypernetworks": [{"name": "h", "strength": 3}]})
