"""Steering runs from the TUI as a first-time user would: interrupt and resume, a pause that
stays in sight, runs asked for while the WebUI is down, an outage mid-run, a GPU out of memory.
Pilot against the simulator over loopback HTTP."""

from __future__ import annotations

import asyncio
import socket

from textual.widgets import Label

from stablenew_tui.sim import SimServer
from stablenew_tui.tui.screens import main
from stablenew_tui.tui.widgets.job_log import JobLog
from stablenew_tui.tui.widgets.queue_view import QueueView
from tests.tui.helpers import (
    Notifications,
    app_for,
    drawn_text,
    node_state,
    posted,
    results_in_view,
    run_with,
    wait_until,
)

SMALL = {"txt2img-steps": "2", "txt2img-width": "64", "txt2img-height": "64"}


def holds(app) -> str:
    """What the progress line says holds the run up ("" when it is not shown)."""
    label = app.screen.query_one("#holds", Label)
    return str(label.render()) if label.display else ""


def progress_label(app) -> str:
    return str(app.screen.query_one("#image-label", Label).render())


def statuses(app) -> list[str]:
    return [cells[1].split(" ", 1)[1] for cells in app.screen.query_one(QueueView).shown]


async def first_image_running(pilot, images: int) -> None:
    """Once the node is READY, run `images` small images and show the Queue tab with the
    first being made."""
    app = pilot.app
    await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
    await run_with(pilot, "a fox", {**SMALL, "images-per-prompt": str(images)})
    await pilot.press("f4")
    await wait_until(pilot, lambda: "running" in statuses(app), what="the first running")


def log_lines(app, containing: str) -> list[str]:
    return [entry for entry in app.screen.query_one(JobLog).entries if containing in entry]


async def test_after_an_interrupt_the_queue_shows_it_at_once_and_a_key_resumes_the_run(sim):
    sim.faults.hang_next(path="txt2img", seconds=3)  # the first image takes a while
    app = app_for(sim.url)
    notes = Notifications()
    async with app.run_test(size=(120, 40), message_hook=notes.collect) as pilot:
        await first_image_running(pilot, 3)
        await pilot.press("f10")
        assert holds(app) == "STOPPING", "the image being made finishes first"
        await wait_until(pilot, lambda: statuses(app) == ["queued"] * 3, what="all queued")
        stopped = "stopped: 3 left · ^T resumes"
        await wait_until(pilot, lambda: progress_label(app) == stopped, what="the run stopped")
        assert holds(app) == ""
        assert notes.any("^T resumes it")
        commands = {command.title for command in app.get_system_commands(app.screen)}
        assert "Resume run…" in commands, "the palette offers it too"

        await pilot.press("ctrl+t", "enter")  # the chooser lists the newest run first
        await wait_until(pilot, lambda: statuses(app) == ["done"] * 3, what="the run finished")
    assert len(posted(sim, "txt2img")) == 4, "the interrupted image made again, once"


async def test_a_stopped_run_says_how_to_resume_it_in_full_at_80_columns(sim):
    sim.faults.hang_next(path="txt2img", seconds=3)
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await first_image_running(pilot, 12)
        await pilot.press("f10")
        stopped = "stopped: 12 left · ^T resumes"
        await wait_until(pilot, lambda: progress_label(app) == stopped, what="the run stopped")
        await pilot.pause()
        label = app.screen.query_one("#image-label", Label)
        assert drawn_text(label).strip() == stopped, "on screen, not wrapped out of sight"


async def test_no_run_eta_while_paused_it_would_count_down_nothing():
    async with SimServer(speed=1.0) as sim:  # about a quarter of a second per image
        app = app_for(sim.url)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
            run_label = app.screen.query_one("#run-label", Label)
            await run_with(pilot, "a slow river", {"images-per-prompt": "6",
                                                   "txt2img-steps": "5"})  # fmt: skip
            await wait_until(pilot, lambda: "left · ETA" in str(run_label.render()),
                             what="images left and the run's ETA")  # fmt: skip
            await pilot.press("f8")
            assert holds(app) == "PAUSED"
            await pilot.pause(0.6)  # the image being made finishes; its news comes
            shown = str(run_label.render())
            assert "left" in shown and "ETA" not in shown, shown
            await pilot.press("f8")
            await wait_until(pilot, lambda: "ETA" in str(run_label.render()),
                             what="the ETA back once resumed")  # fmt: skip
            await app.services.control.cancel_all()


async def test_stopping_leaves_the_progress_line_with_the_news_that_the_run_stopped(
    sim, monkeypatch
):
    # With the periodic refresh out of the way, only the engine's news can clear the hold.
    monkeypatch.setattr(main, "VIEW_REFRESH_SECONDS", 3600)
    sim.faults.hang_next(path="txt2img", seconds=3)
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await run_with(pilot, "a fox", {**SMALL, "images-per-prompt": "2"})
        await wait_until(pilot, lambda: progress_label(app).startswith("#1 txt2img"),
                         what="the first image being made")  # fmt: skip
        await pilot.press("f10")
        assert holds(app) == "STOPPING"
        stopped = "stopped: 2 left · ^T resumes"
        await wait_until(pilot, lambda: progress_label(app) == stopped, what="the run stopped")
        assert holds(app) == ""


async def test_a_pause_stays_in_the_progress_line_until_resumed(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("f8")
        assert holds(app) == "PAUSED"
        await run_with(pilot, "a paused fox", SMALL)
        await pilot.press("f4")
        await wait_until(pilot, lambda: statuses(app) == ["queued"], what="the run queued")
        assert holds(app) == "PAUSED", "still there once the toast has gone"
        await pilot.press("f8")
        await wait_until(pilot, lambda: statuses(app) == ["done"], what="made after resuming")
        assert holds(app) == ""


async def test_cancelling_everything_while_paused_ends_the_run_at_once(sim):
    sim.faults.hang_next(path="txt2img", seconds=1)  # the first image takes a moment
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await first_image_running(pilot, 6)
        await pilot.press("f8", "f12")
        # Nothing is left to hold: neither paused nor stopping, at once (not once resumed).
        await wait_until(pilot, lambda: holds(app) == "", timeout=10, what="the run ended")
        assert app.services.control.running is None
        await wait_until(pilot, lambda: "queued" not in statuses(app), timeout=5, what="shown")


async def test_a_run_asked_for_while_the_webui_is_down_starts_when_it_is_ready():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = app_for(f"http://127.0.0.1:{port}")
    notes = Notifications()
    async with app.run_test(size=(80, 24), message_hook=notes.collect) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "DISCONNECTED", what="DISCONNECTED")
        await run_with(pilot, "an early fox", SMALL)
        await wait_until(pilot, lambda: holds(app) != "", what="the run waiting")
        assert holds(app) == "WAITING FOR NODE · 1 run(s) to start"
        assert notes.any("starts when one is READY")
        async with SimServer(speed=0, port=port) as server:
            table = await results_in_view(pilot, 1)
            assert [body["prompt"] for body in posted(server, "txt2img")] == ["an early fox"]
        assert holds(app) == "" and table.selected.prompt == "an early fox"


async def test_an_outage_mid_run_holds_the_line_and_logs_one_line_each_way(sim):
    sim.faults.hang_next(path="txt2img", seconds=5)
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await run_with(pilot, "a stormy fox", SMALL)
        await pilot.press("f4")
        await wait_until(pilot, lambda: "running" in statuses(app), what="the image running")
        sim.faults.down_now(4)
        await wait_until(pilot, lambda: holds(app) == "WAITING FOR NODE", what="the hold")
        await wait_until(pilot, lambda: statuses(app) == ["done"], timeout=40, what="made")
        node_lines = [line.split(" ", 1)[1] for line in log_lines(app, "node sim")]
    states = [line.split(" ")[2].rstrip(":") for line in node_lines]
    assert states == ["CONNECTING", "READY", "DISCONNECTED", "READY"], node_lines


async def test_a_gpu_out_of_memory_is_one_short_line_in_the_log(sim):
    sim.faults.oom_next(path="txt2img")
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await run_with(pilot, "a heavy fox", SMALL)
        await wait_until(pilot, lambda: log_lines(app, "FAILED"), what="the failure logged")
        (line,) = log_lines(app, "FAILED")
    assert line.split(" ", 1)[1] == "[sim] image 1 FAILED in txt2img: out of GPU memory (+2.25 GiB)"


async def test_quitting_while_an_image_is_made_stops_it_on_the_node():
    """A WebUI goes on with an image whose request was dropped: quitting tells it to stop,
    so the GPU is free for whatever comes next (the image stays queued for a resume)."""
    async with SimServer(speed=0.05) as slow:  # 512×512, 100 steps: a fifth of a second each
        app = app_for(slow.url)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
            await run_with(pilot, "a fox", {"txt2img-steps": "100"})
            await wait_until(pilot, lambda: slow.webui.engine.busy, what="the image under way")
            await pilot.press("ctrl+q")
        assert posted(slow, "interrupt"), "the node was told to stop"
        for _ in range(100):  # it stops at the end of the step under way
            if not slow.webui.engine.busy:
                break
            await asyncio.sleep(0.05)
        assert not slow.webui.engine.busy, "the node is free"
