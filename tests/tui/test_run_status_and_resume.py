"""The run's status readable at a glance, and runs left unfinished offered and resumed, with
Pilot against the simulator over loopback HTTP."""

from __future__ import annotations

import socket

from textual.widgets import Label, ProgressBar

from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from stablenew_tui.tui.screens.resume import ResumeChooser
from stablenew_tui.tui.widgets.node_status import NodeStatusBar
from tests.integration.pipeline_helpers import launcher_for
from tests.tui.helpers import (
    Notifications,
    app_for,
    node_state,
    posted,
    results_in_view,
    run_with,
    wait_until,
)

FLAGS = {"images_per_prompt": 2, "txt2img": {"steps": 2, "width": 64, "height": 64}}


async def test_the_progress_line_says_images_left_and_the_run_eta_and_each_node_its_image():
    async with SimServer(speed=1.0) as sim:  # about a quarter of a second per image
        app = app_for(sim.url)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
            run_label = app.screen.query_one("#run-label", Label)
            bar = app.screen.query_one(NodeStatusBar)
            await run_with(pilot, "a slow river", {"images-per-prompt": "4",
                                                   "txt2img-steps": "5"})  # fmt: skip
            await wait_until(pilot, lambda: "#" in bar.activity.get("sim", ""),
                             what="the node's image in the status line")  # fmt: skip
            assert "txt2img" in str(bar.render())
            # The ETA may come a moment before the first image is counted as made.
            await wait_until(pilot, lambda: _left_with_eta(run_label) in (1, 2, 3),
                             what="fewer images left, and the run's ETA")  # fmt: skip
            await results_in_view(pilot, 4)
            await wait_until(pilot, lambda: str(run_label.render()) == "run", what="idle again")
            assert bar.activity == {}


def _left_with_eta(label: Label) -> int | None:
    """The images left that the run label shows beside the run's ETA."""
    text = str(label.render())
    return int(text.split(" ", 1)[0]) if "left · ETA" in text else None


async def _left_over(url: str, prompt: str = "left over") -> str:
    """A run an earlier session planned and ended before making."""
    launcher = launcher_for(url)
    try:
        prepared = await launcher.prepare(RunRequest(prompt=prompt, flags=FLAGS))
    finally:
        await launcher.aclose()
    return prepared.run.id


async def test_unfinished_runs_are_listed_at_start_and_one_is_chosen_and_resumed(sim):
    await _left_over(sim.url, "first left over")
    second = await _left_over(sim.url, "second left over")
    app = app_for(sim.url)
    notes = Notifications()
    async with app.run_test(size=(80, 24), message_hook=notes.collect) as pilot:
        await wait_until(pilot, lambda: notes.any("2 unfinished run(s)"), what="the notice")
        assert notes.any("second left over · 2 of 2 left") and notes.any("^T: resume one")
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("ctrl+t")
        assert isinstance(app.screen, ResumeChooser)
        await pilot.press("enter")  # the newest, first in the list
        table = await results_in_view(pilot, 2)
        assert {row.run_id for row in table.results.values()} == {second}
        await pilot.press("ctrl+p", *"Resume run", "enter")  # also from the palette
        await wait_until(pilot, lambda: isinstance(app.screen, ResumeChooser), what="chooser")
        assert len(app.screen.runs) == 1
    assert [body["prompt"] for body in posted(sim, "txt2img")] == ["second left over"] * 2


async def test_a_run_resumed_while_the_node_is_down_starts_when_it_is_ready():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with SimServer(speed=0, port=port) as sim:
        run_id = await _left_over(sim.url)
    app = app_for(f"http://127.0.0.1:{port}")
    notes = Notifications()
    async with app.run_test(size=(80, 24), message_hook=notes.collect) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "DISCONNECTED", what="DISCONNECTED")
        await pilot.press("ctrl+t", "enter")  # lined up once a node answers
        async with SimServer(speed=0, port=port) as sim:
            await wait_until(pilot, lambda: notes.any("resuming 'left over'"), what="resuming")
            table = await results_in_view(pilot, 2)
            assert {row.run_id for row in table.results.values()} == {run_id}
            sent = posted(sim, "txt2img")
            attempts = [job.attempts for job in app.services.control.jobs(run_id)]
    assert len(sent) == 2
    assert attempts == [1, 1], "no attempt was spent while the node was down"


async def test_a_run_asked_for_while_the_node_is_down_shows_at_zero_not_the_last_run_done():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with SimServer(speed=0, port=port) as sim:
        await _left_over(sim.url)  # 2 images an earlier session planned
    app = app_for(f"http://127.0.0.1:{port}")
    async with app.run_test(size=(100, 24)) as pilot:
        run_bar = app.screen.query_one("#run-bar", ProgressBar)
        label = app.screen.query_one("#image-label", Label)
        holds = app.screen.query_one("#holds", Label)
        async with SimServer(speed=0, port=port):
            await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
            await run_with(pilot, "done before", {"images-per-prompt": "3"})
            await wait_until(pilot, lambda: str(label.render()) == "finished: 3 done",
                             what="the first run finished")  # fmt: skip
            assert (run_bar.progress, run_bar.total) == (3, 3)
        await wait_until(pilot, lambda: node_state(app) == "DISCONNECTED", what="DISCONNECTED")

        await pilot.press("ctrl+r")  # the same template again: it waits to be planned
        await wait_until(pilot, lambda: "WAITING FOR NODE" in str(holds.render()),
                         what="WAITING FOR NODE")  # fmt: skip
        await wait_until(pilot, lambda: run_bar.progress == 0, what="the bar at zero")
        assert str(label.render()) == "next run: planned once a node answers"
        await pilot.press("f12")  # drop it: the left-over run is resumed instead
        await wait_until(pilot, lambda: app.services.control.waiting_runs == 0, what="dropped")

        await pilot.press("ctrl+t", "enter")  # planned by the earlier session: 2 images
        await wait_until(pilot, lambda: str(label.render()) == "next run: 0 of 2",
                         what="the resumed run at 0 of 2")  # fmt: skip
        assert (run_bar.progress, run_bar.total) == (0, 2)
        assert "WAITING FOR NODE" in str(holds.render())
        async with SimServer(speed=0, port=port):
            await wait_until(pilot, lambda: str(label.render()) == "finished: 2 done",
                             what="the resumed run finished")  # fmt: skip
            assert (run_bar.progress, run_bar.total) == (2, 2)
