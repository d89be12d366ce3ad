"""Nodes dying and hanging mid-run, over real loopback HTTP: their images are made by the others,
each exactly once, and the run returns as soon as its last image is made."""

from __future__ import annotations

from pathlib import Path

import pytest

from stablenew_tui.config import AppConfig, ClientConfig, QueueConfig
from stablenew_tui.pipeline.events import JobFailed
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import launcher_for, manifest, run_acting_on
from tests.integration.test_leases import assert_each_image_once

# About a third of a second per image at speed 4; a hang is cut off after a second.
FLAGS = {"images_per_prompt": 9, "txt2img": {"steps": 20, "width": 512, "height": 512}}
STALLING = AppConfig(client=ClientConfig(stall_timeout=1))
# Several times what the run takes (about 3 s), and shorter than the waits it used to be held
# open by: a hung node's probe (30 s), a dead node's (up to 10 s apart, given up after 300 s).
PROMPTLY = 15


async def run_breaking(launcher, act, after_done: int):
    """Run FLAGS; `act()` once `after_done` images are done. Returns (prepared, summary,
    events); the run must return PROMPTLY."""
    request = RunRequest(prompt="a harbour", flags=FLAGS)
    return await run_acting_on(launcher, request, act, after_done, within=PROMPTLY)


@pytest.mark.parametrize("lease_seconds", [60.0, 1.0], ids=["leases-60s", "leases-1s"])
async def test_a_node_that_hangs_mid_run_costs_the_run_nothing_but_its_images_time(
    lease_seconds: float,
):
    """Every route of the hung node hangs (its probes too): its image is cut off and made on
    the other node, and the healthy node is never cancelled. With leases renewed every third
    of a second, a renewal finds the hung worker's claim gone (the job went back to the queue)
    while it waits for its node: the healthy node's new claim of that job must not be taken
    for the lost one, and its image is written."""
    config = STALLING.model_copy(update={"queue": QueueConfig(lease_seconds=lease_seconds)})
    async with SimServer(speed=4) as hung, SimServer(speed=4) as healthy:
        launcher = launcher_for(hung.url, healthy.url, config=config)
        try:
            act = lambda: hung.faults.hang_next(1000)  # noqa: E731
            prepared, summary, events = await run_breaking(launcher, act, after_done=2)
        finally:
            hung.faults.clear()
            await launcher.aclose()
    assert summary.counts == {"done": 9}
    assert_each_image_once(Path(prepared.run.folder), 9)
    stalls = [e for e in events if isinstance(e, JobFailed) and e.node == "node0"]
    assert stalls and all(e.will_retry and "stalled" in e.reason for e in stalls)
    assert not [e for e in events if isinstance(e, JobFailed) and e.node == "node1"]


async def test_one_node_killed_and_one_hung_mid_run_every_image_once_and_a_prompt_end():
    async with (
        SimServer(speed=4) as killed,
        SimServer(speed=4) as hung,
        SimServer(speed=4) as healthy,
    ):
        launcher = launcher_for(killed.url, hung.url, healthy.url, config=STALLING)

        def break_two() -> None:
            killed.faults.down_now(600)
            hung.faults.hang_next(1000)

        try:
            prepared, summary, events = await run_breaking(launcher, break_two, after_done=3)
        finally:
            killed.faults.clear()
            hung.faults.clear()
            await launcher.aclose()
    assert summary.counts == {"done": 9}
    assert not summary.stopped
    assert_each_image_once(Path(prepared.run.folder), 9)
    assert "node2" in {line["node"] for line in manifest(prepared.run.folder)}
    final_failures = [e for e in events if isinstance(e, JobFailed) and not e.will_retry]
    assert final_failures == [], "a dying or hung node fails no image: it is not the images'"
