"""The Insights tab: the learning report as two tables with bars, and a key that applies it.

The factors table lists what matters most first, with a bar for how much (the count-weighted
spread of its options' shrunk means, in stars). Below, the options of the factor under the
cursor: rated images, shrunk mean, where its 80 % interval lies on the 1–5 scale (`┊` marks
the overall mean), keeper share, and "few" when there is too little evidence. `a` on an option
applies it (see `insights_apply`). After the factors, comparison grids ranked from pairwise
picks (`insights_picks`): under such a row the values' strengths take the options' place. The
report is built in a thread whenever the tab is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from stablenew_tui.learning.ratings import Rating
from stablenew_tui.learning.report import FactorReport, LearnReport
from stablenew_tui.tui.services import Insights
from stablenew_tui.tui.widgets.insights_apply import apply_option
from stablenew_tui.tui.widgets.insights_bars import length_bar, rating_scale
from stablenew_tui.tui.widgets.insights_picks import (
    PickRow,
    PickTable,
    pick_rows,
    picks_summary,
)

SCALE_WIDTH = 16
MATTERS_WIDTH = 12


class FactorTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="factors.down", system=True),
        Binding("k", "cursor_up", "Up", show=False, id="factors.up", system=True),
    ]
    DEFAULT_CSS = "FactorTable { height: 2fr; border: round $panel-lighten-2; }"

    def on_mount(self) -> None:
        self.border_title = "factors, most important first"
        self.add_column("factor", key="factor", width=38)
        self.add_column("matters", key="bar", width=MATTERS_WIDTH)
        self.add_column("★", key="stars", width=4)
        self.add_column("opts", key="options", width=4)


class OptionTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="insights.down", system=True),
        Binding("k", "cursor_up", "Up", show=False, id="insights.up", system=True),
        Binding("a", "apply", "Apply", id="insights.apply"),
    ]
    DEFAULT_CSS = "OptionTable { height: 3fr; border: round $panel-lighten-2; }"

    class Apply(Message):
        """Apply the option at the cursor."""

        def __init__(self, row: int) -> None:
            self.row = row
            super().__init__()

    def on_mount(self) -> None:
        self.add_column("option", key="option", width=20)
        self.add_column("n", key="count", width=4)
        self.add_column("shrunk", key="shrunk", width=6)
        self.add_column("1       3      5", key="scale", width=SCALE_WIDTH)
        self.add_column("80% range", key="range", width=9)
        self.add_column("keep", key="keep", width=4)
        self.add_column("", key="note", width=3)

    def action_apply(self) -> None:
        if self.row_count:
            self.post_message(self.Apply(self.cursor_row))


class InsightsView(Vertical):
    DEFAULT_CSS = """
    InsightsView { padding: 0 1; }
    InsightsView #insights-summary { height: auto; max-height: 2; color: $text-muted; }
    """

    def __init__(
        self,
        rated: Callable[[], list[Rating]],
        build_report: Callable[[list[Rating]], Insights],
        **kwargs: Any,
    ) -> None:
        """`rated` is read on the app's thread, where ratings change; `build_report` runs in
        a thread."""
        super().__init__(**kwargs)
        self._rated = rated
        self._build_report = build_report
        self.report: LearnReport | None = None
        self.pick_rows: list[PickRow] = []
        self._shown: FactorReport | PickRow | None = None

    def compose(self) -> ComposeResult:
        yield Static("reading the ratings…", id="insights-summary")
        yield FactorTable(cursor_type="row", id="insights-factors")
        yield OptionTable(cursor_type="row", id="insights-options")
        yield PickTable(cursor_type="row", id="insights-picks")

    def on_show(self) -> None:
        self._report_on(self._rated())

    @work(thread=True, exclusive=True, exit_on_error=False, group="insights")
    def _report_on(self, rated: list[Rating]) -> None:
        report = self._build_report(rated)
        self.app.call_from_thread(self.show_report, report)

    def show_report(self, insights: Insights) -> None:
        report = self.report = insights.report
        self.pick_rows = pick_rows(insights.picks)
        summary = " · ".join(filter(None, [_summary(report), picks_summary(insights.picks)]))
        self.query_one("#insights-summary", Static).update(summary)
        factors = self.query_one(FactorTable)
        factors.clear()
        largest = max((factor.importance for factor in report.factors), default=0.0)
        for factor in report.factors:
            factors.add_row(
                factor.factor.label, length_bar(factor.importance, largest, MATTERS_WIDTH),
                f"{factor.importance:.2f}", str(len(factor.options)),
            )  # fmt: skip
        for row in self.pick_rows:  # strengths are no stars: no bar beside the factors'
            factors.add_row(row.label, "", "", str(len(row.strengths)))
        self._show_row(factors.cursor_row)

    @on(DataTable.RowHighlighted, "#insights-factors")
    def _factor_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_row(event.cursor_row)

    @on(DataTable.RowSelected, "#insights-factors")
    def _factor_chosen(self) -> None:
        self._lower_table().focus()

    def _lower_table(self) -> OptionTable | PickTable:
        picks = isinstance(self._shown, PickRow)
        return self.query_one(PickTable) if picks else self.query_one(OptionTable)

    def _show_row(self, row: int) -> None:
        """The options of the factor table's `row`, or the strengths of a picked grid's."""
        factors = self.report.factors if self.report else []
        if 0 <= row - len(factors) < len(self.pick_rows):
            self._show_picks(self.pick_rows[row - len(factors)])
        else:
            self._show_options(factors[row] if 0 <= row < len(factors) else None)

    def _show_picks(self, row: PickRow) -> None:
        if row is self._shown:
            return
        self._shown = row
        self.query_one(OptionTable).display = False
        table = self.query_one(PickTable)
        table.display = True
        table.show(row)

    def _show_options(self, factor: FactorReport | None) -> None:
        if factor is self._shown and factor is not None:
            return
        self._shown = factor
        self.query_one(PickTable).display = False
        table = self.query_one(OptionTable)
        table.display = True
        table.clear()
        if factor is None:
            table.border_title = ""
            return
        title = factor.factor.label
        if factor.factor.template:
            title += f" of “{factor.factor.template}”"
        table.border_title = title
        overall = factor.pooling.mean
        for option in factor.options:
            e = option.estimate
            table.add_row(
                option.value.replace("\n", " "), str(e.count), f"{e.shrunk:.2f}",
                rating_scale(e.low, e.shrunk, e.high, overall, SCALE_WIDTH),
                f"{e.low:.1f}–{e.high:.1f}", f"{e.keeper_share:.0%}",
                "" if e.enough else Text("few", style="italic"),
            )  # fmt: skip

    @on(OptionTable.Apply)
    def _apply(self, message: OptionTable.Apply) -> None:
        if not isinstance(self._shown, FactorReport):
            return
        option = self._shown.options[message.row]
        said, severity = apply_option(self.screen, self._shown.factor, option)
        self.notify(said, severity=severity)


def _summary(report: LearnReport) -> str:
    if not report.rated_images:
        return "no rated images yet: rate images in the Results tab (1–5)"
    loo = report.loo
    line = f"{report.rated_images} rated images, mean {report.mean:.2f}"
    if loo.predictions and loo.raw_rmse:
        gain = 1 - loo.shrunk_rmse / loo.raw_rmse
        line += (
            f" · leave-one-out: shrunk means miss by {loo.shrunk_rmse:.2f}, raw by "
            f"{loo.raw_rmse:.2f} ({abs(gain):.0%} {'less' if gain >= 0 else 'more'})"
        )
    if not report.factors:
        line += " · no factor has two options yet"
    return line
