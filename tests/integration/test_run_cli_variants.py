"""`stablenew run` with repeated --model, --vae and --hypernetwork, as a user types them."""

from __future__ import annotations

import csv

import pytest

from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import posted
from tests.integration.test_run_cli import stablenew, stablenew_async


async def test_repeated_flags_fan_out_and_the_summary_names_each_model(tmp_path):
    async with SimServer(speed=0) as sim:
        process = await stablenew_async(
            "run", "--node", sim.url, "--prompt", "a {fox|hare}", "--mode", "cyclical",
            "--images-per-prompt", "2",
            "--steps", "2", "--size", "64x64", "--seed", "10", "--out", str(tmp_path),
            "--model", "dreamshaper_8", "--model", "v1-5-pruned-emaonly",
            "--hypernetwork", "anime_3:0.7", "--hypernetwork", "None", "--variants", "rotate",
        )  # fmt: skip
        _stdout, stderr = await process.communicate()
        bodies = posted(sim, "txt2img")
    assert process.returncode == 0, stderr.decode()
    made = [
        (body["override_settings"]["sd_model_checkpoint"], body["prompt"], body["seed"])
        for body in bodies
    ]
    # Rotate: each drawn prompt on the next combination (models × hypernetworks).
    assert made == [("dreamshaper_8", "a fox <hypernet:anime_3:0.7>", 10),
                    ("dreamshaper_8", "a hare", 11)]  # fmt: skip
    (summary,) = tmp_path.glob("*/summary.csv")
    with summary.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["model"], row["hypernetwork"]) for row in rows] == [
        ("dreamshaper_8", "anime_3"), ("dreamshaper_8", ""),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hypernetwork", "anime_3:strong"], "--hypernetwork 'anime_3:strong': expected NAME"),
        (["--model", "a", "--model", "a"], "txt2img.model: a name is listed twice"),
        (["--variants", "shuffle"], "argument --variants: invalid choice: 'shuffle'"),
        (["--stages", "txt2img,adetailer", "--hypernetwork", "h:3"],
         "variants.hypernetworks.0.strength: Input should be less than or equal to 2"),
    ],
)  # fmt: skip
def test_bad_variant_flags_exit_2_with_one_line(args, message):
    result = stablenew("run", "--node", "http://127.0.0.1:9", "--prompt", "x", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
