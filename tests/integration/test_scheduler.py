"""The multi-node scheduler against several simulators over loopback HTTP: the speed model it
learns, which job each node takes, and the run's ETA."""

from __future__ import annotations

from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.pipeline.speed_model import SPEEDS_NAME, SpeedBook
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import launcher_for, run_to_end

SMALL = {"steps": 2, "width": 128, "height": 128, "seed": 7}


async def test_finished_jobs_teach_the_speed_book_and_it_is_kept():
    async with SimServer(flavor="a1111", speed=0) as one, SimServer(speed=0) as two:
        launcher = launcher_for(one.url, two.url)
        try:
            flags = {"images_per_prompt": 6, "txt2img": SMALL}
            _, summary, _ = await run_to_end(launcher, RunRequest(prompt="a dune", flags=flags))
        finally:
            await launcher.aclose()
    assert summary.counts == {"done": 6}
    book = SpeedBook.load(AppPaths.from_environment().data_dir / SPEEDS_NAME)
    work = 128 * 128 / 1e6 * 2
    assert {node: book.estimate(node, work) is not None for node in ("node0", "node1")} == {
        "node0": True,
        "node1": True,
    }
