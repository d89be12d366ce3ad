"""Pick mode's service on real comparison runs: which images take part, which run is chosen."""

from __future__ import annotations

import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.learning.picks import PICKS_NAME, PickStore
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.compare_grid import ComparisonGrid
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.services.picking import PickSession
from tests.integration.pipeline_helpers import launcher_for, run_to_end

SMALL = {"txt2img": {"steps": 2, "width": 64, "height": 64, "seed": 5}}


async def test_a_failed_cell_takes_no_part_and_picks_are_kept_per_run(sim):
    sim.faults.fail_next(1, path="txt2img")  # the first cell fails at once
    launcher = launcher_for(sim.url)
    picks_file = AppPaths.from_environment().data_dir / PICKS_NAME
    try:
        with pytest.raises(InputError, match="no comparison in the queue"):
            PickSession.open(launcher.queue, None, picks_file)
        grid = ComparisonGrid.parse(["cfg=5,7", "steps=2,3"])
        prepared, summary, _ = await run_to_end(
            launcher, RunRequest(prompt="a {fox|hare}", flags=SMALL, grid=grid)
        )
        assert summary.counts == {"failed": 1, "done": 3}
        session = PickSession.open(launcher.queue, "not-a-run", picks_file)
        assert session.run.id == prepared.run.id
        assert [image.cell for image in session.images.values()] == [
            {"cfg": "5", "steps": "3"}, {"cfg": "7", "steps": "2"}, {"cfg": "7", "steps": "3"},
        ]  # fmt: skip
        seen = set()
        for _ in range(3):
            pair = session.next()
            assert pair is not None
            seen |= {image.path for image in pair}
            session.pick(*pair)
        assert seen == set(session.images)
        assert session.made == 3 and len(PickStore(picks_file).of_run(prepared.run.id)) == 3
        one_image = ComparisonGrid.parse(["cfg=5,7"])
        sim.faults.fail_next(1, path="txt2img")
        await run_to_end(launcher, RunRequest(prompt="x", flags=SMALL, grid=one_image))
        with pytest.raises(InputError, match="fewer than two images to pick from"):
            PickSession.open(launcher.queue, None, picks_file)
    finally:
        await launcher.aclose()
