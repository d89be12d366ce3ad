"""Comparison grids: the axes as typed, the jobs they make and the order they run in."""

from __future__ import annotations

import itertools

import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.compare_grid import ComparisonGrid, cell_settings, plan_grid
from stablenew_tui.pipeline.jobs import PromptSpec, plan_run
from stablenew_tui.pipeline.settings import PipelineSettings, merge_settings

ONE_PROMPT = [(0, PromptSpec(prompt="a fox", template="a {fox|hare}"))]


def planned(axes: list[str], seed: int = 42, settings: PipelineSettings | None = None):
    settings = settings or PipelineSettings()
    grid = ComparisonGrid.parse(axes)
    images = plan_grid(ONE_PROMPT, settings, grid, seed)
    _, jobs = plan_run(
        images.job_prompts, settings, base_seed=seed, name="x", folder="/tmp/x",
        image_numbers=images.image_numbers,
    )  # fmt: skip
    return jobs


def test_two_axes_make_every_combination_with_one_prompt_and_seed():
    jobs = planned(["sampler=Euler a,DPM++ 2M", "cfg=5,7"])
    assert [job.spec.cell for job in jobs] == [
        {"sampler": "Euler a", "cfg": "5"}, {"sampler": "Euler a", "cfg": "7"},
        {"sampler": "DPM++ 2M", "cfg": "5"}, {"sampler": "DPM++ 2M", "cfg": "7"},
    ]  # fmt: skip
    assert {job.seed for job in jobs} == {42}
    assert {job.spec.prompt for job in jobs} == {"a fox"}
    assert {job.spec.model for job in jobs} == {None}


def test_three_axes_run_checkpoint_outermost_then_vae_whatever_their_place():
    jobs = planned(["cfg=5,7", "vae=v1,v2", "model=A,B"])
    made = [(job.spec.model, job.spec.vae, job.spec.cell["cfg"]) for job in jobs]
    assert made == [
        ("A", "v1", "5"), ("A", "v1", "7"), ("A", "v2", "5"), ("A", "v2", "7"),
        ("B", "v1", "5"), ("B", "v1", "7"), ("B", "v2", "5"), ("B", "v2", "7"),
    ]  # fmt: skip
    switches = sum(a.spec.model != b.spec.model for a, b in itertools.pairwise(jobs))
    assert switches == 1
    # The cell keeps the axes in the order given: columns, rows, sheets.
    assert list(jobs[0].spec.cell) == ["cfg", "vae", "model"]


def test_a_seed_axis_gives_each_cell_its_own_seed():
    jobs = planned(["seed=7,4294967295", "steps=10,20"], seed=100)
    assert [(job.seed, job.spec.cell["steps"]) for job in jobs] == [
        (7, "10"), (7, "20"), (4294967295, "10"), (4294967295, "20"),
    ]  # fmt: skip


def test_a_cell_changes_only_the_settings_its_axes_name():
    base = PipelineSettings(stages=["txt2img", "img2img"])
    cell = {"size": "640x384", "denoising": "0.55", "clip_skip": "2", "scheduler": "Karras"}
    changed = cell_settings(base, {**cell, "model": "A", "seed": "3"})
    assert (changed.txt2img.width, changed.txt2img.height) == (640, 384)
    assert changed.img2img.denoising_strength == 0.55
    assert changed.txt2img.clip_skip == 2
    assert changed.txt2img.scheduler == "Karras"
    assert changed.txt2img.model is None  # the checkpoint is the job's own
    assert changed.txt2img.steps == base.txt2img.steps
    assert cell_settings(base, None) is base


@pytest.mark.parametrize(
    ("axes", "message"),
    [
        ([], "--axis: give at least one"),
        (["colour=red,blue"], "no axis 'colour'; choose from model, vae"),
        (["cfg"], "--axis 'cfg': expected cfg=VALUE,VALUE"),
        (["cfg=5,x"], "--axis cfg=x: expected a number"),
        (["steps=2.5"], "--axis steps=2.5: expected a whole number"),
        (["size=big"], "--axis size=big: expected WIDTHxHEIGHT"),
        (["seed=-4"], "--axis seed=-4: a seed is 0 to 4294967295"),
        (["cfg=5,5"], "a value is listed twice"),
        (["cfg=5", "cfg=7"], "--axis cfg: given twice"),
        (["cfg=5", "steps=2", "seed=1", "model=a"], "at most 3"),
    ],
)
def test_bad_axes_are_named(axes, message):
    with pytest.raises(InputError) as raised:
        ComparisonGrid.parse(axes)
    assert message in str(raised.value)


async def test_values_out_of_range_and_unknown_names_are_named_with_their_axis():
    settings = PipelineSettings()
    checked: list[PipelineSettings] = []

    async def nodes_know(changed: PipelineSettings, specs) -> None:
        checked.append(changed)
        if changed.txt2img.sampler == "Eular":
            raise InputError("txt2img.sampler: demo has no 'Eular'")

    grid = ComparisonGrid.parse(["model=A,B", "sampler=Euler a"])
    await grid.check_values(settings, nodes_know)
    assert [c.txt2img.model for c in checked] == ["A", "B", None]
    with pytest.raises(InputError, match=r"--axis sampler=Eular: txt2img.sampler: demo has no"):
        await ComparisonGrid.parse(["sampler=Eular"]).check_values(settings, nodes_know)
    with pytest.raises(InputError, match=r"--axis cfg=31: txt2img.cfg_scale: Input should be"):
        await ComparisonGrid.parse(["cfg=31"]).check_values(settings, nodes_know)
    with pytest.raises(InputError, match="--axis denoising: the run has no img2img"):
        await ComparisonGrid.parse(["denoising=0.3"]).check_values(settings, nodes_know)


def test_settings_listing_several_checkpoints_need_a_model_axis():
    several = merge_settings(("flags", {"txt2img": {"model": ["A", "B"]}}))
    with pytest.raises(InputError, match=r"txt2img\.model: the settings list several"):
        planned(["cfg=5,7"], settings=several)
    assert len(planned(["model=A,C", "cfg=5,7"], settings=several)) == 4
