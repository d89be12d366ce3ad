"""A node the run's breaker took out answers its monitor all along: the status line and the
Nodes tab say OUT while it rests, not READY, until the run lets it back. Pilot against the
simulator over loopback HTTP."""

from __future__ import annotations

from stablenew_tui.sim import SimServer
from stablenew_tui.tui.widgets.node_status import NodeStatusBar
from stablenew_tui.tui.widgets.nodes_view import NodesView
from tests.tui.helpers import app_for, drawn_text, node_state, run_with, wait_until

SMALL = {"txt2img-steps": "2", "txt2img-width": "64", "txt2img-height": "64"}


def _state(view: NodesView) -> str:
    """The state column of the node's row."""
    rows = drawn_text(view).splitlines()[1:]
    return next((line.split()[1] for line in rows if line.split()[:1] == ["sim"]), "")


async def test_a_node_out_of_the_run_by_its_breaker_shows_out_until_it_is_back():
    async with SimServer(speed=0) as sim:
        sim.faults.drop_next(3, path="txt2img")  # three failed jobs in a row: out for 2 s
        app = app_for(sim.url)
        async with app.run_test(size=(100, 24)) as pilot:
            await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
            bar = app.screen.query_one(NodeStatusBar)
            view = app.screen.query_one(NodesView)
            await run_with(pilot, "a resting node", {**SMALL, "images-per-prompt": "3"})
            await pilot.press("ctrl+f")
            await wait_until(pilot, lambda: "○ sim OUT" in str(bar.render()),
                             what="OUT in the status line")  # fmt: skip
            monitor = app.services.monitor
            assert monitor.status["sim"].state in ("READY", "BUSY"), "it answers all along"
            await wait_until(pilot, lambda: _state(view) == "OUT", what="OUT on the Nodes tab")
            assert "resting after failed jobs" in str(bar.render())
            await wait_until(pilot, lambda: "finished: 3 done" in drawn_text(
                app.screen.query_one("#image-label")), what="the run made")  # fmt: skip
            assert "OUT" not in str(bar.render())
            await wait_until(pilot, lambda: _state(view) == "READY", what="READY again")
