"""Synthetic users with known tastes, and the records and ratings of their images in the
layout the engine and the Results tab write (`JobRunner.records`, `RatingStore.rate`).

A user's true mean rating of an image is `base` plus the effect of each option it was made
with; the rating given is that plus Gaussian noise (`noise` stars), rounded and kept to 1–5.
Shared by the tests and bench/learn.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from stablenew_tui.learning.ratings import Rating
from stablenew_tui.prompts import PromptSampler, ResolvedPrompt, Template

TEMPLATE = "a {red|blue|green|gold} {cat|dog|owl} in {rain|fog|sun|snow|dusk}"
CHECKPOINTS = ("sd_xl_base_1.0", "dreamshaper_8", "juggernaut_xl", "realvis_v4")
SAMPLERS = ("Euler a", "DPM++ 2M", "DDIM")
CFGS = (5.0, 7.0, 9.0)


@dataclass
class SyntheticUser:
    # factor label (as the report names it) → option → effect in stars
    effects: dict[str, dict[str, float]]
    base: float = 3.0
    noise: float = 1.0

    def true_mean(self, used: dict[str, str]) -> float:
        return self.base + sum(
            self.effects.get(factor, {}).get(option, 0.0) for factor, option in used.items()
        )

    def rate(self, used: dict[str, str], rng: random.Random) -> int:
        noisy = self.true_mean(used) + rng.gauss(0.0, self.noise)
        return min(max(round(noisy), 1), 5)


def txt2img_inputs(prompt: dict, model: str, sampler: str, cfg: float, seed: int) -> dict:
    """A txt2img record's inputs as the engine writes them (`_prompt_fields` and
    `_record_inputs` of pipeline/job_runner.py)."""
    return {
        **prompt, "model": model, "sampler": sampler, "steps": 20, "cfg_scale": cfg,
        "width": 512, "height": 512, "seed": seed,
    }  # fmt: skip


def record(job: str, stage: str, inputs: dict, path: str, made: float) -> dict:
    return {
        "record_version": 1, "time": made, "run_id": job.rsplit("-", 1)[0], "job_id": job,
        "stage": stage, "node": "synthetic", "inputs": inputs,
        "outputs": {
            "paths": [path], "format": "png",
            "infotext": f"{inputs['prompt']}\nSteps: 20, Sampler: {inputs.get('sampler')}",
            "info": {"seed": inputs["seed"], "sd_model_name": inputs.get("model")},
        },
        "timings": {"queued": made - 2, "started": made - 1, "finished": made},
    }  # fmt: skip


@dataclass
class Session:
    records: list[dict] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    true_means: list[float] = field(default_factory=list)


def prompt_fields(resolved: ResolvedPrompt) -> dict:
    """What a job records about its prompt (`PromptSpec` via pipeline/prompt_plan.py)."""
    return {
        "prompt": resolved.text, "negative": "", "template": resolved.template.text,
        "choices": {str(i): text for i, text in resolved.choice_texts().items()},
        "locks": {}, "mode": resolved.mode.value, "prompt_seed": resolved.prompt_seed,
    }  # fmt: skip


def draw(template: str | Template, seed: int) -> ResolvedPrompt:
    """One prompt drawn in random mode."""
    parsed = Template.parse(template) if isinstance(template, str) else template
    return next(iter(PromptSampler(parsed).prompts([seed])))


def used_options(inputs: dict) -> dict[str, str]:
    """The options an image was made with, named as the report names its factors."""
    used = {
        "txt2img checkpoint": inputs["model"],
        "txt2img sampler": inputs["sampler"],
        "txt2img cfg": {5.0: "4–6", 7.0: "6–8", 9.0: "8–10"}[inputs["cfg_scale"]],
    }
    for index, text in inputs.get("choices", {}).items():
        used[f"segment {index}"] = text
    return used


def rated_session(
    user: SyntheticUser, images: int, seed: int = 1, template: str = TEMPLATE, run: str = "run"
) -> Session:
    """`images` txt2img images with uniformly drawn settings and prompts, each rated; `run`
    names their folder and jobs."""
    rng = random.Random(seed)
    parsed = Template.parse(template)
    sampler = PromptSampler(parsed)
    session = Session()
    for n in range(images):
        inputs = txt2img_inputs(
            prompt_fields(next(iter(sampler.prompts([rng.randrange(2**32)])))),
            rng.choice(CHECKPOINTS), rng.choice(SAMPLERS), rng.choice(CFGS), n,
        )  # fmt: skip
        path = f"/out/{run}/txt2img/{n:05d}.png"
        job = f"{run}-{n:05d}"
        session.records.append(record(job, "txt2img", inputs, path, 1_800_000_000.0 + n))
        used = used_options(inputs)
        session.ratings.append(Rating(path, user.rate(used, rng), job, run, "txt2img"))
        session.true_means.append(user.true_mean(used))
    return session
