"""Comparison grids ranked from pairwise picks, in the Insights tab: the same Bradley–Terry
rankings as `stablenew learn report` (`learning.pick_report`), one factor-table row per axis of
a ranked grid and one for its images, and under the cursor a table of the values with their
strength and where its 80 % interval lies (`┊` marks 0, an average value of the grid).

A strength is in log-odds of being picked: +1 is picked over an average value about 73 % of
the time. A grid joins once it has enough picks to rank all its images.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.widgets import DataTable

from stablenew_tui.learning.bradley_terry import Strength
from stablenew_tui.learning.pick_report import GridRanking, PickRankings
from stablenew_tui.tui.widgets.insights_bars import STRENGTHS, strength_scale

SCALE_WIDTH = 16
IMAGES = "images"  # the row of a grid's images (its cells), beside its axes' rows


@dataclass(frozen=True)
class PickRow:
    grid: GridRanking
    axis: str  # an axis of the grid, or IMAGES
    strengths: list[Strength]  # strongest first

    @property
    def label(self) -> str:
        return f"picked: {self.axis} · {_title(self.grid)}"

    @property
    def title(self) -> str:
        return f"{self.axis} of {_title(self.grid)}, from {self.grid.picks} picks"


def pick_rows(rankings: PickRankings) -> list[PickRow]:
    """Each ranked grid's axes, then its images; the grid picked from last first."""
    rows = []
    for grid in rankings.grids:
        rows += [PickRow(grid, axis.axis, axis.values) for axis in grid.axes]
        rows.append(PickRow(grid, IMAGES, grid.cells))
    return rows


def picks_summary(rankings: PickRankings) -> str:
    """What the picks add to the tab's summary line ("" when there are none)."""
    parts = []
    grids, waiting = len(rankings.grids), rankings.waiting
    if grids:
        parts.append(f"{grids} grid{'s' if grids > 1 else ''} ranked from picks")
    if waiting:
        parts.append(f"{waiting} need{'s' if waiting == 1 else ''} more picks")
    if rankings.problems:
        parts.append("pick lines skipped: see `stablenew learn report`")
    return " · ".join(parts)


def _title(grid: GridRanking) -> str:
    return f"“{' '.join(grid.template.split())}”" if grid.template else grid.run_id


class PickTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="picks.down", system=True),
        Binding("k", "cursor_up", "Up", show=False, id="picks.up", system=True),
    ]
    # Shown in place of the options when a "picked:" row is under the cursor.
    DEFAULT_CSS = "PickTable { height: 3fr; border: round $panel-lighten-2; display: none; }"

    def on_mount(self) -> None:
        low, high = (f"{bound:+.0f}" for bound in STRENGTHS)
        middle = SCALE_WIDTH // 2
        header = f"{low:<{middle}}0{high:>{SCALE_WIDTH - middle - 1}}"
        self.add_column("value", key="value", width=28)
        self.add_column("won", key="won", width=5)
        self.add_column("θ", key="strength", width=5)
        self.add_column(header, key="scale", width=SCALE_WIDTH)
        self.add_column("80% range", key="range", width=11)

    def show(self, row: PickRow) -> None:
        self.clear()
        self.border_title = row.title
        for strength in row.strengths:
            self.add_row(
                str(strength.item).replace("\n", " "), f"{strength.wins}/{strength.picks}",
                f"{strength.strength:+.1f}",
                strength_scale(strength.low, strength.strength, strength.high, SCALE_WIDTH),
                f"{strength.low:+.1f}…{strength.high:+.1f}",
            )  # fmt: skip
