"""An image's details, read from its run's manifest or from the infotext it carries, for images
the simulator made over loopback HTTP."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.pipeline.refine import RefineRequest
from stablenew_tui.services.details import ImageDetails, image_details
from tests.integration.pipeline_helpers import launcher_for, manifest, posted, run_to_end

FLAGS = {"images_per_prompt": 2, "txt2img": {"steps": 3, "width": 64, "height": 64}}


def _rows(details: ImageDetails) -> dict[str, dict[str, str]]:
    return {section.title: dict(section.rows) for section in details.sections}


async def _made(sim) -> tuple[Path, Path]:
    launcher = launcher_for(sim.url)
    try:
        request = RunRequest(prompt="a {red|blue} kite", negative="fog", flags=FLAGS)
        prepared, _, _ = await run_to_end(launcher, request)
    finally:
        await launcher.aclose()
    first = sorted((Path(prepared.run.folder) / "txt2img").iterdir())[0]
    return Path(prepared.run.folder), first


async def test_details_of_a_run_image_name_everything_sent(sim):
    _, first = await _made(sim)
    sent = posted(sim, "txt2img")[0]
    rows = _rows(image_details(str(first)))
    assert rows["prompt"]["prompt"] == sent["prompt"]
    assert rows["prompt"]["negative"] == "fog"
    assert rows["prompt"]["template"] == "a {red|blue} kite"
    assert rows["prompt"]["choices"] == f"1: {sent['prompt'].split()[1]}"
    made = rows["made with"]
    assert made["seed"] == str(sent["seed"])
    assert made["model"].endswith("]") and made["sampler"] == "Euler a · automatic"
    assert (made["steps · CFG"], made["size"], made["node"]) == ("3 · 7.0", "64×64", "node0")
    assert rows["image"]["file"] == str(first)
    stage = rows["txt2img: every setting sent"]
    assert (stage["steps"], stage["width"], stage["seed"]) == ("3", "64", str(sent["seed"]))
    assert rows["infotext"][""].startswith(sent["prompt"] + "\nNegative prompt: fog")


async def test_a_job_made_again_shows_its_newest_line(sim):
    folder, first = await _made(sim)
    assert _rows(image_details(str(first)))["made with"]["node"] == "node0"
    line = next(item for item in manifest(folder) if item["path"].endswith(first.name))
    with (folder / "manifest.jsonl").open("a") as handle:  # as a redo after a crash writes it
        handle.write(json.dumps({**line, "node": "elsewhere"}) + "\n")
    assert _rows(image_details(str(first)))["made with"]["node"] == "elsewhere"


async def test_an_image_from_elsewhere_shows_what_its_infotext_says(sim, tmp_path):
    _, first = await _made(sim)
    loose = tmp_path / "kite.png"
    shutil.copy(first, loose)
    details = image_details(str(loose))
    rows = _rows(details)
    seed = str(posted(sim, "txt2img")[0]["seed"])
    assert rows["parameters (from the infotext)"]["Seed"] == seed
    assert (details.prompt, details.negative, details.seed) == (
        posted(sim, "txt2img")[0]["prompt"], "fog", int(seed),
    )  # fmt: skip
    assert "made with" not in rows


async def test_a_refined_image_names_the_one_it_started_from(sim):
    _, first = await _made(sim)
    launcher = launcher_for(sim.url)
    try:
        prepared = await launcher.prepare_refine(RefineRequest([str(first)], ["img2img"]))
        await launcher.engine.run(prepared.run)
    finally:
        await launcher.aclose()
    (refined,) = (Path(prepared.run.folder) / "img2img").iterdir()
    rows = _rows(image_details(str(refined)))
    assert rows["image"]["refined from"] == str(first)
    assert rows["made with"]["seed"] == str(posted(sim, "txt2img")[0]["seed"])


def test_a_missing_image_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match=r"gone\.png: no such file"):
        image_details(str(tmp_path / "gone.png"))
