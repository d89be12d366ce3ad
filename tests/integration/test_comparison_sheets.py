"""An interactive session draws a comparison's contact sheets when its run ends, from the
engine's own events: once per comparison run, never for a plain run."""

from __future__ import annotations

import asyncio
from pathlib import Path

from stablenew_tui.pipeline.compare_grid import ComparisonGrid
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.services.comparisons import DrawnSheets, draw_sheets_as_runs_end
from tests.integration.pipeline_helpers import launcher_for, run_to_end

SMALL = {"txt2img": {"steps": 2, "width": 64, "height": 64, "seed": 5}}


async def test_sheets_are_drawn_when_a_comparison_run_ends_and_only_then(sim):
    launcher = launcher_for(sim.url)
    drawn: list[DrawnSheets] = []
    watcher = asyncio.create_task(
        draw_sheets_as_runs_end(launcher.engine.events, launcher.queue, drawn.append)
    )
    try:
        await asyncio.sleep(0)  # subscribed before the first run ends
        await run_to_end(launcher, RunRequest(prompt="a plain run", flags=SMALL))
        grid = ComparisonGrid.parse(["cfg=5,7", "sampler=Euler a,DDIM", "steps=2,3"])
        prepared, _, _ = await run_to_end(
            launcher, RunRequest(prompt="a fox", flags=SMALL, grid=grid)
        )
        for _ in range(200):
            if drawn:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # time enough for a second, wrong report
    finally:
        watcher.cancel()
        await launcher.aclose()
    (only,) = drawn
    folder = Path(prepared.run.folder)
    assert only.run.id == prepared.run.id and not only.problem and only.missing == 0
    assert only.sheets == [folder / "comparison_1_2.png", folder / "comparison_2_3.png"]
    assert all(path.exists() for path in only.sheets)
