"""Templates, locks, sampling modes and packs through a whole run: the prompts the server got,
and what manifests and learning records say about each choice."""

from __future__ import annotations

import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.learning.records import read_records
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.prompts import SamplingMode, SegmentLocks
from tests.integration.pipeline_helpers import launcher_for, manifest, posted, run_to_end

TEMPLATE = "a {red|green|blue} {cat|dog|fox|owl|bee}, {day|night}"
FAST = {"txt2img": {"steps": 2, "width": 64, "height": 64, "seed": 500}}


async def _run(sim, **request):
    launcher = launcher_for(sim.url)
    try:
        prepared, summary, _ = await run_to_end(launcher, RunRequest(**request))
    finally:
        await launcher.aclose()
    return prepared, summary


async def test_a_locked_segment_holds_while_the_others_vary(sim):
    locks = SegmentLocks().lock(1, "red")
    flags = {**FAST, "images_per_prompt": 12}
    prepared, summary = await _run(sim, prompt=TEMPLATE, flags=flags, locks=locks)
    assert summary.counts == {"done": 12}
    prompts = [body["prompt"] for body in posted(sim, "txt2img")]
    assert all(prompt.startswith("a red ") for prompt in prompts)
    assert len({prompt.split(" ")[2] for prompt in prompts}) > 1, "unlocked segments vary"
    line = manifest(prepared.run.folder)[0]
    assert line["template"] == TEMPLATE and line["mode"] == "random"
    assert line["locks"] == {"1": "red"} and line["choices"]["1"] == "red"
    assert set(line["choices"]) == {"1", "2", "3"}
    assert line["prompt_seed"] == line["seed"] == 500, "prompt seed linked to the image seed"
    record = read_records(AppPaths.from_environment().data_dir / "records.jsonl").records[0]
    assert record["inputs"]["choices"] == line["choices"]
    assert record["inputs"]["template"] == TEMPLATE


async def test_same_seed_same_prompts(sim):
    flags = {**FAST, "images_per_prompt": 5}
    await _run(sim, prompt=TEMPLATE, flags=flags)
    first = [body["prompt"] for body in posted(sim, "txt2img")]
    await _run(sim, prompt=TEMPLATE, flags=flags)
    second = [body["prompt"] for body in posted(sim, "txt2img")][5:]
    assert first == second


async def test_an_unlinked_prompt_seed_changes_words_not_images(sim):
    flags = {**FAST, "images_per_prompt": 4}
    await _run(sim, prompt=TEMPLATE, flags=flags)
    await _run(sim, prompt=TEMPLATE, flags=flags, prompt_seed=9_000)
    bodies = posted(sim, "txt2img")
    assert [b["seed"] for b in bodies[:4]] == [b["seed"] for b in bodies[4:]]
    assert [b["prompt"] for b in bodies[:4]] != [b["prompt"] for b in bodies[4:]]


async def test_combinatorial_makes_every_combination(sim):
    flags = {**FAST, "images_per_prompt": 2}
    _, summary = await _run(sim, prompt=TEMPLATE, flags=flags, mode=SamplingMode.COMBINATORIAL)
    prompts = [body["prompt"] for body in posted(sim, "txt2img")]
    assert summary.counts == {"done": 3 * 5 * 2 * 2}
    assert len(set(prompts)) == 3 * 5 * 2
    assert prompts[0] == prompts[1], "each combination made images_per_prompt times"


async def test_combinatorial_cap(sim):
    _, summary = await _run(
        sim, prompt=TEMPLATE, flags=FAST, mode=SamplingMode.COMBINATORIAL, max_prompts=7
    )
    assert summary.counts == {"done": 7}


async def test_cyclical_walks_the_options(sim):
    flags = {**FAST, "images_per_prompt": 4}
    await _run(sim, prompt="{a|b|c} x", flags=flags, mode=SamplingMode.CYCLICAL)
    assert [body["prompt"] for body in posted(sim, "txt2img")] == ["a x", "b x", "c x", "a x"]


async def test_a_pack_runs_each_prompt_with_its_overrides(sim):
    flags = {"images_per_prompt": 1, "txt2img": {"steps": 2, "seed": 3}}
    prepared, summary = await _run(sim, pack="portraits", flags=flags)
    bodies = posted(sim, "txt2img")
    assert summary.counts == {"done": 3} and len(bodies) == 3
    assert (bodies[0]["width"], bodies[0]["height"], bodies[0]["cfg_scale"]) == (832, 1216, 6.5)
    assert bodies[0]["steps"] == 2, "an explicit setting beats the pack's"
    negative = "cartoon, 3d render, lowres, blurry, extra fingers, watermark"
    assert bodies[0]["negative_prompt"] == negative, "the prompt's negative, then the pack's"
    assert "<lora:oil_texture:0.6>" in bodies[2]["prompt"], "WebUI syntax passes through"
    assert all("__" not in body["prompt"] for body in bodies), "wildcards resolved"
    assert prepared.run.name == "Portraits"


async def test_template_errors_name_the_place(sim):
    launcher = launcher_for(sim.url)
    try:
        with pytest.raises(InputError) as caught:
            await launcher.prepare(RunRequest(prompt="a {red|blue", flags=FAST))
    finally:
        await launcher.aclose()
    assert caught.value.source == "prompt" and caught.value.line == 1
    assert "^" in str(caught.value)
    assert not [r for r in sim.requests if r.method == "POST"]
