"""Stall detection: a generation whose /progress stands still is cut off and made again, long
before the read timeout; one that advances, however slowly, is left alone."""

from __future__ import annotations

import asyncio
import logging
import time

from stablenew_tui.config import AppConfig, ClientConfig
from stablenew_tui.pipeline.events import JobFailed
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import drain, launcher_for, manifest
from tests.integration.test_run_cli import stablenew_async


def stalling_after(seconds: float) -> AppConfig:
    # The read timeout stays at its default (600 s): only stall detection can end the hang.
    return AppConfig(client=ClientConfig(stall_timeout=seconds))


async def test_a_hung_generation_is_interrupted_and_made_again(sim, caplog):
    sim.faults.hang_next(1, path="txt2img")  # accepted, never answered
    launcher = launcher_for(sim.url, config=stalling_after(1.5))
    flags = {"images_per_prompt": 2, "txt2img": {"steps": 2, "width": 64, "height": 64}}
    started = time.monotonic()
    try:
        prepared = await launcher.prepare(RunRequest(prompt="a lighthouse", flags=flags))
        events = launcher.engine.events.subscribe_queue()
        with caplog.at_level(logging.WARNING, logger="stablenew.engine"):
            summary = await asyncio.wait_for(launcher.engine.run(prepared.run), 30)
    finally:
        await launcher.aclose()
    assert time.monotonic() - started < 15
    assert summary.counts == {"done": 2}
    (stall,) = [event for event in drain(events) if isinstance(event, JobFailed)]
    assert stall.will_retry and stall.index == 0
    assert stall.reason == "txt2img stalled: no progress for 1.5 s; interrupted"
    assert any("no progress for 1.5 s" in record.getMessage() for record in caplog.records)
    assert [r.path for r in sim.requests if r.path.endswith("/interrupt")] == [
        "/sdapi/v1/interrupt"
    ]
    assert len(manifest(prepared.run.folder)) == 2


async def test_a_slow_generation_that_advances_is_not_a_stall():
    async with SimServer(speed=1) as slow:  # about two seconds for this image
        launcher = launcher_for(slow.url, config=stalling_after(1))
        flags = {"images_per_prompt": 1, "txt2img": {"steps": 30, "width": 512, "height": 512}}
        try:
            prepared = await launcher.prepare(RunRequest(prompt="a slow lighthouse", flags=flags))
            events = launcher.engine.events.subscribe_queue()
            started = time.monotonic()
            summary = await launcher.engine.run(prepared.run)
            took = time.monotonic() - started
        finally:
            await launcher.aclose()
    assert took > 1.5, "the image took longer than the stall timeout"
    assert summary.counts == {"done": 1}
    assert not [event for event in drain(events) if isinstance(event, JobFailed)]


async def test_the_cli_says_why_a_stalled_image_was_made_again(sim, stablenew_home):
    stablenew_home.mkdir(parents=True, exist_ok=True)
    (stablenew_home / "config.toml").write_text("[client]\nstall_timeout = 1\n")
    sim.faults.hang_next(1, path="txt2img")
    process = await stablenew_async(
        "run", "--node", sim.url, "--prompt", "x", "--steps", "2", "--size", "64x64"
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    node = sim.url.removeprefix("http://")
    assert (
        f"[{node}] image 1 FAILED in txt2img: txt2img stalled: no progress for 1 s; "
        "interrupted; will retry"
    ) in stdout.decode()
    assert "image 1 done" in stdout.decode()
