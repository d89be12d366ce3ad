import random

from stablenew_tui.pipeline.jobs import PromptSpec, choose_base_seed, plan_run, slugify
from stablenew_tui.pipeline.settings import merge_settings


def _plan(seed: int, images: int = 3, prompts: int = 2):
    settings = merge_settings(("t", {"images_per_prompt": images, "txt2img": {"seed": seed}}))
    specs = [(n, PromptSpec(prompt=f"prompt {n}")) for n in range(prompts) for _ in range(images)]
    base = choose_base_seed(settings, random.Random(7))
    return plan_run(specs, settings, base_seed=base, name="t", folder="/tmp/x")


def test_one_job_per_image_with_consecutive_seeds():
    run, jobs = _plan(100)
    assert [job.seed for job in jobs] == [100, 101, 102, 103, 104, 105]
    assert [job.prompt_index for job in jobs] == [0, 0, 0, 1, 1, 1]
    assert [job.index for job in jobs] == list(range(6))
    assert len({job.id for job in jobs}) == 6
    assert run.source["base_seed"] == 100


def test_random_base_seed_is_fixed_at_planning():
    run, jobs = _plan(-1)
    base = run.source["base_seed"]
    assert base >= 0
    assert [job.seed for job in jobs] == [base + n for n in range(6)]


def test_slug_is_safe_and_bounded():
    assert slugify("A lighthouse at dusk, (masterpiece:1.2) <lora:film:0.5>") == (
        "a-lighthouse-at-dusk-masterpiece-1-2"
    )
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("日本語") == "image"
    assert len(slugify("word " * 100, 40)) <= 40
    assert "/" not in slugify("a/b\\c") and "\\" not in slugify("a/b\\c")
