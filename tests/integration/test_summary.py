"""summary.csv: one row per image, written whole when a run ends and again when it is resumed,
with the ratings given by then."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

from stablenew_tui.cli import main
from stablenew_tui.learning.ratings import RATINGS_NAME, RatingStore
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.events import JobDone
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.pipeline.summary import COLUMNS, SUMMARY_NAME
from tests.integration.pipeline_helpers import (
    launcher_for,
    manifest,
    next_event,
    run_to_end,
    start_run,
)

FLAGS = {
    "stages": ["txt2img", "img2img"],
    "images_per_prompt": 4,
    "txt2img": {"model": "dreamshaper_8", "sampler": "DPM++ 2M", "scheduler": "karras",
                "steps": 3, "cfg_scale": 6.5, "width": 128, "height": 192, "seed": 300},
}  # fmt: skip


def summary_rows(folder: str) -> list[dict[str, str]]:
    with (Path(folder) / SUMMARY_NAME).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        return list(reader)


async def test_a_stopped_run_is_summarized_and_its_resume_completes_the_summary(sim):
    launcher = launcher_for(sim.url)
    try:
        request = RunRequest(prompt="a tower, at night", flags=FLAGS)
        prepared, events, task = await start_run(launcher, request)
        await next_event(events, JobDone)
        launcher.engine.request_stop()
        stopped = await asyncio.wait_for(task, 30)
        done_first = stopped.counts["done"]
        assert 1 <= done_first < 4 and stopped.counts["queued"] == 4 - done_first
        rows = summary_rows(prepared.run.folder)
        assert len(rows) == done_first, "what the stopped run made"

        first = rows[0]
        expected = {
            "image": "1", "prompt": "a tower, at night", "negative": "", "seed": "300",
            "model": "dreamshaper_8", "sampler": "DPM++ 2M", "scheduler": "karras",
            "steps": "3", "cfg_scale": "6.5", "size": "128x192", "rating": "",
        }  # fmt: skip
        assert {column: first[column] for column in expected} == expected
        assert first["txt2img_file"].startswith("txt2img/00001_300_")
        assert first["img2img_file"].startswith("img2img/00001_300_")
        assert first["adetailer_file"] == first["upscale_file"] == ""

        # Rated between the runs, as the TUI's Results tab or `stablenew rate` would.
        final = str(Path(prepared.run.folder) / first["img2img_file"])
        RatingStore(AppPaths.from_environment().data_dir / RATINGS_NAME).rate(final, 4)
        resumed = await launcher.resume()
        summary = await launcher.engine.run(resumed.run)
    finally:
        await launcher.aclose()
    assert summary.counts == {"done": 4}
    rows = summary_rows(prepared.run.folder)
    assert [row["image"] for row in rows] == ["1", "2", "3", "4"]
    assert [row["seed"] for row in rows] == ["300", "301", "302", "303"]
    assert rows[0]["rating"] == "4" and all(row["rating"] == "" for row in rows[1:])
    leftovers = [p.name for p in Path(prepared.run.folder).iterdir() if p.name.startswith(".")]
    assert leftovers == [], "written whole: no temp file left"


async def test_a_failed_stage_leaves_its_file_empty(sim):
    sim.faults.oom_next(1, path="img2img")
    launcher = launcher_for(sim.url)
    flags = FLAGS | {"images_per_prompt": 2}
    try:
        prepared, summary, _ = await run_to_end(launcher, RunRequest(prompt="x", flags=flags))
    finally:
        await launcher.aclose()
    assert summary.counts == {"failed": 1, "done": 1}
    rows = summary_rows(prepared.run.folder)
    assert len(rows) == 2 == len({line["job_id"] for line in manifest(prepared.run.folder)})
    assert rows[0]["txt2img_file"] and rows[0]["img2img_file"] == ""
    assert rows[1]["img2img_file"]


async def test_a_rating_after_the_run_ended_reaches_its_summary_at_once(sim, capsys):
    launcher = launcher_for(sim.url)
    flags = FLAGS | {"images_per_prompt": 2, "stages": ["txt2img"]}
    try:
        prepared, _, _ = await run_to_end(launcher, RunRequest(prompt="a mill", flags=flags))
    finally:
        await launcher.aclose()
    folder = Path(prepared.run.folder)
    first, second = (folder / row["txt2img_file"] for row in summary_rows(str(folder)))
    assert main(["rate", str(second), "4"]) == 0
    assert [row["rating"] for row in summary_rows(str(folder))] == ["", "4"]
    assert capsys.readouterr().err == ""

    # A summary that cannot be written is a warning: the rating is kept all the same.
    (folder / SUMMARY_NAME).unlink()
    (folder / SUMMARY_NAME).mkdir()
    assert main(["rate", str(first), "2"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"stablenew: warning: {folder / SUMMARY_NAME} was not brought up to")
    assert RatingStore(AppPaths.from_environment().data_dir / RATINGS_NAME).get(str(first)) == 2
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == [], "no temp file"
