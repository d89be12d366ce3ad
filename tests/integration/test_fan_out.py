"""A run over several checkpoints, VAEs and hypernetworks against the simulator: what each node
received, in which order, and how every job is recorded and checked."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.learning.records import read_records
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.pipeline.summary import SUMMARY_NAME
from stablenew_tui.sim import SimServer
from tests.integration.conftest import FLAVORS
from tests.integration.pipeline_helpers import launcher_for, manifest, posted, run_to_end

# By model name: what every flavor knows a checkpoint by (SD.Next's titles have no extension).
DREAMSHAPER = "dreamshaper_8"
SD15 = "v1-5-pruned-emaonly"
ANYTHING = "anything-v5-PrtRE"
SMALL = {"steps": 2, "width": 128, "height": 128, "seed": 50}


def asked(body: dict) -> str | None:
    return body["override_settings"].get("sd_model_checkpoint")


async def run(sim: SimServer, request: RunRequest):
    launcher = launcher_for(sim.url)
    try:
        prepared, summary, _ = await run_to_end(launcher, request)
        jobs = launcher.queue.jobs(prepared.run.id)
    finally:
        await launcher.aclose()
    return prepared, summary, jobs


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_every_image_on_every_model_grouped_by_model_and_checked(flavor, tmp_path):
    pack = tmp_path / "knights.toml"
    pack.write_text(
        f'prompts = [\n  "a castle",\n  {{ prompt = "a knight", model = "{ANYTHING}" }},\n]\n'
    )  # the second prompt is always made with its own checkpoint
    flags = {"images_per_prompt": 2, "txt2img": SMALL | {"model": [DREAMSHAPER, SD15]}}
    async with SimServer(flavor=flavor, speed=0) as sim:
        prepared, summary, jobs = await run(sim, RunRequest(pack=str(pack), flags=flags))
        bodies = posted(sim, "txt2img")
    assert summary.counts == {"done": 6}
    made = [(body["prompt"], asked(body), body["seed"]) for body in bodies]
    assert made == [
        ("a castle", DREAMSHAPER, 50), ("a castle", DREAMSHAPER, 51),
        ("a castle", SD15, 50), ("a castle", SD15, 51),  # the same images on the next model
        ("a knight", ANYTHING, 52), ("a knight", ANYTHING, 53),
    ]  # fmt: skip
    # The job spec, the manifest and the records say which model each job was made with.
    assert [job.spec.model for job in jobs] == [asked(body) for body in bodies]
    lines = manifest(prepared.run.folder)
    if flavor != "sdnext":  # SD.Next does not say which model it used
        assert [line["model"] for line in lines] == [asked(body) for body in bodies]
        assert all(line["unverified"] == [] for line in lines)
    records = read_records(AppPaths.from_environment().data_dir / "records.jsonl").records
    assert [record["inputs"]["model"] for record in records] == [asked(b) for b in bodies]


async def test_vaes_fan_out_too_and_each_is_checked(sim):
    vaes = ["vae-ft-mse-840000-ema-pruned.safetensors", "kl-f8-anime2.ckpt"]
    flags = {"txt2img": SMALL | {"vae": vaes}}
    prepared, summary, _ = await run(sim, RunRequest(prompt="a barn", flags=flags))
    assert summary.counts == {"done": 2}
    assert [body["override_settings"]["sd_vae"] for body in posted(sim, "txt2img")] == vaes
    assert [line["vae"] for line in manifest(prepared.run.folder)] == vaes


async def test_hypernetworks_rotate_over_the_prompts_of_a_pack(sim, tmp_path):
    pack = tmp_path / "animals.txt"
    pack.write_text("a fox\n\na bear\n\nan owl\n")
    flags = {
        "txt2img": SMALL,
        "variants": {"mode": "rotate", "hypernetworks": [{"name": "anime_3", "strength": 0.6},
                                                          "None"]},
    }  # fmt: skip
    prepared, summary, _ = await run(sim, RunRequest(pack=str(pack), flags=flags))
    assert summary.counts == {"done": 3}
    assert [body["prompt"] for body in posted(sim, "txt2img")] == [
        "a fox <hypernet:anime_3:0.6>", "a bear", "an owl <hypernet:anime_3:0.6>",
    ]  # fmt: skip
    lines = manifest(prepared.run.folder)
    assert [(line["prompt"], line.get("hypernetwork")) for line in lines] == [
        ("a fox", "anime_3"), ("a bear", None), ("an owl", "anime_3"),
    ]  # fmt: skip
    assert all(line["unverified"] == [] for line in lines)
    with (Path(prepared.run.folder) / SUMMARY_NAME).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["prompt"], row["hypernetwork_strength"]) for row in rows] == [
        ("a fox", "0.6"), ("a bear", ""), ("an owl", "0.6"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("flavor", "flags", "message"),
    [
        ("a1111", {"txt2img": {"model": [DREAMSHAPER, "dreamshapr_8"]}},
         "txt2img.model: node0 has no 'dreamshapr_8'"),
        ("sdnext", {"variants": {"hypernetworks": ["anime_3"]}},
         "variants.hypernetworks: node0 has no 'anime_3'"),
    ],
    ids=["model", "hypernetwork-on-sdnext"],
)  # fmt: skip
async def test_a_name_the_node_lacks_is_refused_before_anything_is_sent(flavor, flags, message):
    async with SimServer(flavor=flavor, speed=0) as sim:
        launcher = launcher_for(sim.url)
        try:
            with pytest.raises(InputError, match=message):
                await launcher.prepare(RunRequest(prompt="x", flags=flags))
        finally:
            await launcher.aclose()
        assert posted(sim, "txt2img") == []


async def test_a_prompts_own_model_is_checked_and_named_with_its_prompt(sim, tmp_path):
    pack = tmp_path / "own.json"
    pack.write_text('{"prompts": [{"prompt": "a dragon", "model": "dragon_xl"}]}')
    launcher = launcher_for(sim.url)
    try:
        with pytest.raises(InputError, match="model of the prompt 'a dragon': node0 has no"):
            await launcher.prepare(RunRequest(pack=str(pack)))
    finally:
        await launcher.aclose()
