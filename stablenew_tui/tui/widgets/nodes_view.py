"""The Nodes tab: every node of the session, what it is doing and how it has done, with keys
to drain or undrain the selected node and to add one by its URL.

Drawn line by line like the queue view (see `row_view`), and only while the tab is in view:
the rows come from what the session already knows (the monitor's states, the run's progress,
the speed model), so drawing makes no request; the images counted per node are read from the
queue in a thread, at most every TALLY_SECONDS.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from rich.cells import set_cell_size
from rich.segment import Segment
from textual import work
from textual.binding import Binding
from textual.geometry import Size
from textual.strip import Strip

from stablenew_tui.errors import StableNewError
from stablenew_tui.pipeline.node_tally import NodeTally
from stablenew_tui.services.node_control import NodeControl
from stablenew_tui.services.nodes import SPEED_HEADER, NodeRow, cut_name, speed_text
from stablenew_tui.tui.screens.add_node import AddNodeDialog
from stablenew_tui.tui.widgets.row_view import RowView

# state, model, speed, done, fail; the name (as long as the longest, up to NAME_WIDTH_LIMIT)
# and what the node is doing share the rest.
FIXED_WIDTHS = (13, 15, 6, 6, 5)
NAME_WIDTH_LIMIT = 24
NUMBERS = 2  # the last columns are counts, aligned right
TALLY_SECONDS = 2.0


class NodesView(RowView):
    BINDINGS = [
        Binding("j,down", "cursor(1)", "Down", show=False, id="nodes.down", system=True),
        Binding("k,up", "cursor(-1)", "Up", show=False, id="nodes.up", system=True),
        Binding("d", "drain", "Drain node", id="nodes.drain"),
        Binding("u", "undrain", "Undrain node", id="nodes.undrain"),
        Binding("a", "add_node", "Add node…", id="nodes.add"),
    ]
    HEADER = ("node", "state", "doing", "model", SPEED_HEADER, "done", "fail")
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "nodes-view--disconnected", "nodes-view--connecting", "nodes-view--ready",
        "nodes-view--busy", "nodes-view--draining", "nodes-view--drained", "nodes-view--out",
    }  # fmt: skip
    DEFAULT_CSS = """
    NodesView {
        & > .nodes-view--disconnected { color: $error; text-style: bold; }
        & > .nodes-view--connecting { color: $warning; }
        & > .nodes-view--ready { color: $success; text-style: bold; }
        & > .nodes-view--busy { color: $accent; text-style: bold; }
        & > .nodes-view--draining, & > .nodes-view--drained, & > .nodes-view--out {
            color: $warning; text-style: bold;
        }
    }
    """

    def __init__(
        self,
        load_rows: Callable[[dict[str, NodeTally]], list[NodeRow]],
        load_tallies: Callable[[], dict[str, NodeTally]],
        control: NodeControl,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.load_rows = load_rows
        self.load_tallies = load_tallies
        self.control = control
        self.rows: list[NodeRow] = []
        self._tallies: dict[str, NodeTally] = {}
        self._tallied_at = float("-inf")

    def on_mount(self) -> None:
        self.border_title = "nodes"

    @property
    def selected(self) -> str | None:
        return self.rows[self.cursor].name if self.rows else None

    def show_waiting(self) -> None:
        """Draw the nodes as they are now, redrawn only when a row changed; the counts are
        read again when they are older than TALLY_SECONDS."""
        if time.monotonic() - self._tallied_at >= TALLY_SECONDS:
            self._tallied_at = time.monotonic()
            self._read_tallies()
        self.rows = self.load_rows(self._tallies)
        shown = [_cells(row) for row in self.rows]
        if shown != self.shown:
            self.shown = shown
            self.virtual_size = Size(0, len(shown) + 1)
            self.cursor = min(self.cursor, max(len(shown) - 1, 0))
            self.refresh()

    @work(thread=True, exclusive=True, exit_on_error=False, group="node-tallies")
    def _read_tallies(self) -> None:
        tallies = self.load_tallies()
        self.app.call_from_thread(self._take_tallies, tallies)

    def _take_tallies(self, tallies: dict[str, NodeTally]) -> None:
        self._tallies = tallies
        self.show_waiting()

    # -- drawing -------------------------------------------------------------------------

    def draw_row(self, cells: tuple[str, ...], width: int, component: str) -> Strip:
        """The row's cells in their columns; on a node's row, its state in its colour."""
        flexible = max(width - sum(FIXED_WIDTHS), 0)
        longest = max((len(row.name) for row in self.rows), default=0)
        name_width = min(max(longest, len("node")) + 2, NAME_WIDTH_LIMIT, flexible // 2)
        widths = (name_width, FIXED_WIDTHS[0], flexible - name_width, *FIXED_WIDTHS[1:])
        style = self.style_of(component)
        segments = []
        for index, (cell, size) in enumerate(zip(cells, widths, strict=True)):
            number = index >= len(cells) - NUMBERS
            if index == 0:
                fitted = cut_name(cell, max(size - 1, 0))
            else:
                fitted = cell if len(cell) < size else cell[: max(size - 2, 0)] + "…"
            text = set_cell_size(f"{fitted} ".rjust(size) if number else f" {fitted}", size)
            state = f"nodes-view--{cell.lower()}"
            in_colour = index == 1 and cells is not self.HEADER and state in self.COMPONENT_CLASSES
            shown = style + self.get_component_rich_style(state) if in_colour else style
            segments.append(Segment(text, shown))
        return Strip(segments).adjust_cell_length(width, style)

    # -- keys ----------------------------------------------------------------------------

    def action_drain(self) -> None:
        node = self.selected
        if node is not None:
            self.control.drain(node)
            self.notify(f"{node} drained: it finishes the image it is making, then takes no more")
            self.show_waiting()

    def action_undrain(self) -> None:
        node = self.selected
        if node is not None:
            self.control.undrain(node)
            self.notify(f"{node} takes images again")
            self.show_waiting()

    def action_add_node(self) -> None:
        self.app.push_screen(AddNodeDialog(), self._add)

    def _add(self, url: str | None) -> None:
        if url:
            self.notify(f"probing {url}…", timeout=3)
            self.run_worker(self._join(url), group="add-node", exit_on_error=False)

    async def _join(self, url: str) -> None:
        try:
            said = await self.control.add(url)
        except StableNewError as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        self.notify(said)
        self.show_waiting()


def _cells(row: NodeRow) -> tuple[str, ...]:
    return (
        row.name, row.state, row.doing, row.model, speed_text(row.speed), str(row.tally.done),
        str(row.tally.failed),
    )  # fmt: skip
