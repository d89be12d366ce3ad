"""`stablenew rate` on images a real run made: the same file and keys as the Results tab."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from stablenew_tui.cli import main
from stablenew_tui.config import AppConfig
from stablenew_tui.learning.ratings import RatingStore
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.tui.services import TuiServices
from tests.integration.pipeline_helpers import launcher_for, run_to_end


async def _run_images(sim, count: int = 2) -> list[Path]:
    launcher = launcher_for(sim.url)
    try:
        request = RunRequest(
            prompt="a {red|blue} fox",
            flags={"images_per_prompt": count, "txt2img": {"steps": 2, "width": 64, "height": 64},
                   "stages": ["txt2img", "img2img"]},
        )  # fmt: skip
        prepared, _, _ = await run_to_end(launcher, request)
    finally:
        await launcher.aclose()
    folder = Path(prepared.run.folder)
    return sorted((folder / "img2img").iterdir()) + sorted((folder / "txt2img").iterdir())


def _ratings() -> RatingStore:
    return RatingStore(AppPaths.from_environment().data_dir / "ratings.jsonl")


async def test_rate_writes_what_the_results_tab_reads(sim, capsys, monkeypatch, tmp_path):
    images = await _run_images(sim)
    final, earlier = images[0], images[2]
    monkeypatch.chdir(final.parent)  # a relative path names the same image
    assert main(["rate", final.name, str(earlier), "4"]) == 0
    assert "rated 4" in capsys.readouterr().out
    store = _ratings()
    assert store.get(str(final)) == 4 and store.get(str(earlier)) == 4
    rated = {rating.path: rating for rating in store.rated()}
    assert rated[str(final)].stage == "img2img" and rated[str(earlier)].stage == "txt2img"
    assert rated[str(final)].job_id == rated[str(earlier)].job_id is not None

    # The TUI keys its rows the same way, so it shows the rating.
    link = tmp_path / "link.png"
    link.symlink_to(final)
    assert main(["rate", str(link), "5"]) == 0
    services = TuiServices(AppConfig(), AppPaths.from_environment(), [])
    try:
        rows = {row.path: row for row in services.results.new_rows()}
    finally:
        await services.aclose()
    assert rows[str(final)].rating == 5

    assert main(["rate", str(final), "0"]) == 0
    assert "rating cleared" in capsys.readouterr().out
    assert _ratings().get(str(final)) is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["IMAGE", "7"], "RATING must be 1 to 5, or 0 to clear; got '7'"),
        (["IMAGE", "-1"], "RATING must be 1 to 5, or 0 to clear; got '-1'"),
        (["IMAGE", "four"], "RATING must be 1 to 5, or 0 to clear; got 'four'"),
        (["IMAGE", "missing.png", "3"], "missing.png: no such file"),
        (["IMAGE", "STRANGER", "3"], "not an image stablenew made"),
    ],
)
async def test_bad_input_exits_2_and_rates_nothing(sim, capsys, tmp_path, argv, message):
    images = await _run_images(sim, count=1)
    stranger = tmp_path / "stranger.png"
    stranger.write_bytes(images[0].read_bytes())
    substitutes = {"IMAGE": str(images[0]), "STRANGER": str(stranger)}
    argv = [substitutes.get(arg, arg) for arg in argv]
    assert main(["rate", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert _ratings().rated() == []


def test_a_missing_rating_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["rate", os.devnull])
    assert exit_.value.code == 2
    assert "RATING" in capsys.readouterr().err


async def test_report_on_a_real_run_with_hires_img2img_and_upscale(sim, capsys):
    """Records as the engine writes them: the rating of the last stage's image carries every
    stage's settings, and what the user liked comes first."""
    launcher = launcher_for(sim.url)
    folders = {}
    try:
        for sampler in ("Euler a", "DDIM"):
            request = RunRequest(
                prompt="a {red|blue} fox",
                flags={"images_per_prompt": 3, "stages": ["txt2img", "img2img", "upscale"],
                       "txt2img": {"steps": 2, "width": 64, "height": 64, "sampler": sampler,
                                   "hires": sampler == "DDIM"}},
            )  # fmt: skip
            prepared, summary, _ = await run_to_end(launcher, request)
            assert summary.counts.get("done") == 3
            folders[sampler] = Path(prepared.run.folder) / "upscale"
    finally:
        await launcher.aclose()
    liked = [str(path) for path in sorted(folders["Euler a"].iterdir())]
    disliked = [str(path) for path in sorted(folders["DDIM"].iterdir())]
    assert main(["rate", *liked, "5"]) == 0 and main(["rate", *disliked, "2"]) == 0
    capsys.readouterr()
    assert main(["learn", "report", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rated_images"] == 6 and report["unmatched_ratings"] == 0
    factors = {factor["factor"]: factor for factor in report["factors"]}
    sampler = factors["txt2img sampler"]
    assert [o["value"] for o in sampler["options"]] == ["Euler a", "DDIM"]
    assert [o["count"] for o in sampler["options"]] == [3, 3]
    assert [o["value"] for o in factors["txt2img hires"]["options"]] == ["off", "on"]
    assert report["factors"][0]["importance"] > 0
