"""The Nodes tab at 80×24: every node's state, what it makes, model, speed and images; drain,
undrain and add a node by URL from the keyboard."""

from __future__ import annotations

import socket

from textual.widgets import Input

from stablenew_tui.config import AppConfig, NodeConfig, UIConfig
from stablenew_tui.paths import AppPaths
from stablenew_tui.sim import SimServer
from stablenew_tui.tui.app import make_app
from stablenew_tui.tui.screens.add_node import AddNodeDialog
from stablenew_tui.tui.widgets.nodes_view import NodesView
from tests.tui.helpers import (
    Notifications,
    app_for,
    drawn_text,
    node_state,
    posted,
    run_with,
    wait_until,
)

SMALL = {"txt2img-steps": "2", "txt2img-width": "64", "txt2img-height": "64"}


def _row(view: NodesView, node: str) -> list[str]:
    rows = drawn_text(view).splitlines()[1:]
    return next((line.split() for line in rows if line.split()[:1] == [node]), [])


async def _nodes_tab(pilot) -> NodesView:
    await wait_until(pilot, lambda: node_state(pilot.app) == "READY", what="READY")
    await pilot.press("ctrl+f")
    assert pilot.app.screen.active_tab == "nodes"
    view = pilot.app.screen.query_one(NodesView)
    await wait_until(pilot, lambda: "READY" in drawn_text(view), what="the node listed")
    return view


async def test_the_nodes_tab_shows_state_model_speed_and_images_made(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await _nodes_tab(pilot)
        lines = drawn_text(view).splitlines()
        assert lines[0].split() == ["node", "state", "doing", "model", "it/s", "done", "fail"]
        assert _row(view, "sim") == ["sim", "READY", "sd_xl_base_1.0", "—", "0", "0"]
        assert all(len(line) <= 80 for line in lines)

        await run_with(pilot, "a fox", {**SMALL, "images-per-prompt": "3"})
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: _row(view, "sim")[-2:] == ["3", "0"], what="3 done")
        assert _row(view, "sim")[-3] != "—", "the speed model measured the node"


async def test_d_drains_the_selected_node_and_u_undrains_it(sim):
    notes = Notifications()
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24), message_hook=notes.collect) as pilot:
        view = await _nodes_tab(pilot)
        await pilot.press("d")
        assert app.services.node_control.drained == {"sim"}
        assert notes.any("sim drained: it finishes the image it is making, then takes no more")
        await wait_until(pilot, lambda: _row(view, "sim")[1] == "DRAINED", what="DRAINED")
        await pilot.press("u")
        assert app.services.node_control.drained == set()
        await wait_until(pilot, lambda: _row(view, "sim")[1] == "READY", what="READY again")


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


async def test_a_adds_a_node_by_url_and_bad_ones_are_named_in_a_notification(sim):
    notes = Notifications()
    app = app_for(sim.url)
    hook = notes.collect
    async with (
        SimServer("forge", speed=0) as second,
        app.run_test(size=(80, 24), notifications=True, message_hook=hook) as pilot,
    ):
        view = await _nodes_tab(pilot)
        await pilot.press("a")
        assert isinstance(app.screen, AddNodeDialog)
        field = app.screen.query_one("#url", Input)
        field.value = "gpu2:7860"
        await pilot.press("enter")
        assert notes.any("node URL gpu2:7860: node URL must start with http:// or https://")
        assert isinstance(app.screen, AddNodeDialog), "stays open to fix the URL"

        dead = _closed_port_url()
        field.value = dead
        await pilot.press("enter")
        await wait_until(pilot, lambda: notes.any(f"{dead} not added: reachable: cannot"),
                         what="the unreachable node refused")  # fmt: skip
        assert len(app.services.launcher.pool.handles) == 1

        await pilot.press("a")
        app.screen.query_one("#url", Input).value = second.url
        await pilot.press("enter")
        added = second.url.removeprefix("http://")
        await wait_until(pilot, lambda: notes.any(f"{added} added"), what="added")
        await wait_until(pilot, lambda: _row(view, added)[:2] == [added, "READY"],
                         what="the new node READY")  # fmt: skip
        assert [n.url for n in app.services.launcher.pool.nodes] == [sim.url, second.url]


async def test_a_node_drained_mid_run_shows_draining_then_the_run_holds_until_undrained():
    async with SimServer(speed=1) as slow:
        app = app_for(slow.url)
        async with app.run_test(size=(80, 24)) as pilot:
            view = await _nodes_tab(pilot)  # drawn once before the run: back to it at once
            # About 4 s an image: the drain lands while the first is in the making.
            slow_images = {"txt2img-steps": "60", "txt2img-width": "512", "txt2img-height": "512"}
            await run_with(pilot, "a heron", {**slow_images, "images-per-prompt": "3"})
            await pilot.press("ctrl+f")
            await wait_until(pilot, lambda: len(posted(slow, "txt2img")) == 1,
                             what="the first image asked for")  # fmt: skip
            await pilot.press("d")
            await wait_until(pilot, lambda: _row(view, "sim")[1] == "DRAINING",
                             what="DRAINING while the first image is made")  # fmt: skip
            await wait_until(pilot, lambda: _row(view, "sim")[1] == "DRAINED", timeout=30,
                             what="DRAINED once it is done")  # fmt: skip
            progress = app.screen.query_one("#holds")
            await wait_until(pilot, lambda: "ALL NODES DRAINED" in str(progress.render()),
                             what="the hold in the progress line")  # fmt: skip
            await wait_until(pilot, lambda: _row(view, "sim")[-2:] == ["1", "0"],
                             what="the image in the making finished")  # fmt: skip
            assert app.services.control.running is not None, "the run waits"
            assert len(posted(slow, "txt2img")) == 1, "nothing more asked for while drained"
            await pilot.press("u")
            await wait_until(pilot, lambda: app.services.control.running is None, timeout=60,
                             what="the run finished")  # fmt: skip
            await wait_until(pilot, lambda: _row(view, "sim")[-2:] == ["3", "0"],
                             what="three images shown made")  # fmt: skip
            assert len(posted(slow, "txt2img")) == 3, "every image made exactly once"


async def test_the_cursor_stays_in_sight_on_a_cluster_taller_than_the_tab(sim):
    nodes = [NodeConfig(name=f"gpu{n:02d}", url=_closed_port_url()) for n in range(30)]
    config = AppConfig(ui=UIConfig(image_preview="none"))
    app = make_app(config, AppPaths.from_environment(), nodes)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+f")
        view = app.screen.query_one(NodesView)
        await wait_until(pilot, lambda: "gpu29" in [r.name for r in view.rows], what="listed")
        await pilot.press(*"j" * 29)
        assert view.selected == "gpu29"
        await pilot.pause()
        assert _row(view, "gpu29")[:2] == ["gpu29", "DISCONNECTED"], "drawn, not scrolled off"
        await pilot.press(*"k" * 29)
        assert view.selected == "gpu00"
        await pilot.pause()
        assert _row(view, "gpu00"), "back at the top"
