"""A learned run on the simulator: it draws what was rated higher, and records how it drew."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from stablenew_tui.cli import main
from stablenew_tui.learning.records import read_records
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.prompts import SamplingMode
from tests.integration.pipeline_helpers import launcher_for, run_to_end

TEMPLATE = "a {red|blue|green|gold} fox"
SMALL = {"steps": 2, "width": 64, "height": 64}


async def test_a_learned_run_favours_the_rated_option_and_says_so(sim):
    launcher = launcher_for(sim.url)
    try:
        first, _, _ = await run_to_end(launcher, RunRequest(
            prompt=TEMPLATE, flags={"images_per_prompt": 16, "txt2img": {**SMALL, "seed": 1}},
        ))  # fmt: skip
        by_colour: dict[str, list[str]] = {}
        for job in first.jobs:
            image = next((Path(first.run.folder) / "txt2img").glob(f"{job.index + 1:05d}_*"))
            by_colour.setdefault(job.spec.choices["1"], []).append(str(image))
        assert main(["rate", *by_colour.pop("gold"), "5"]) == 0
        for images in by_colour.values():
            assert main(["rate", *images, "1"]) == 0
        learned, _, _ = await run_to_end(launcher, RunRequest(
            prompt=TEMPLATE, mode=SamplingMode.LEARNED,
            flags={"images_per_prompt": 20, "txt2img": {**SMALL, "seed": 100}},
        ))  # fmt: skip
    finally:
        await launcher.aclose()
    records = read_records(AppPaths.from_environment().data_dir / "records.jsonl").records
    drawn = [r["inputs"] for r in records if r["run_id"] == learned.run.id]
    assert len(drawn) == 20 and {inputs["mode"] for inputs in drawn} == {"learned"}
    assert all(inputs["choices"]["1"] in inputs["prompt"] for inputs in drawn)
    colours = Counter(inputs["choices"]["1"] for inputs in drawn)
    assert colours["gold"] >= 12, colours  # 85 % expected; uniform would give 25 %
    assert learned.run.source["mode"] == "learned"
