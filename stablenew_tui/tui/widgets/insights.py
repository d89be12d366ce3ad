"""The Insights tab: the learning report as two tables with bars, and a key that applies it.

The factors table lists what matters most first, with a bar for how much (the count-weighted
spread of its options' shrunk means, in stars). Below, the options of the factor under the
cursor: rated images, shrunk mean, where its 80 % interval lies on the 1–5 scale (`┊` marks
the overall mean), keeper share, and "few" when there is too little evidence. `a` on an option
applies it (see `insights_apply`). The report is built in a thread whenever the tab is shown.
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
from stablenew_tui.tui.widgets.insights_apply import apply_option
from stablenew_tui.tui.widgets.insights_bars import length_bar, rating_scale

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
        build_report: Callable[[list[Rating]], LearnReport],
        **kwargs: Any,
    ) -> None:
        """`rated` is read on the app's thread, where ratings change; `build_report` runs in
        a thread."""
        super().__init__(**kwargs)
        self._rated = rated
        self._build_report = build_report
        self.report: LearnReport | None = None
        self._shown: FactorReport | None = None

    def compose(self) -> ComposeResult:
        yield Static("reading the ratings…", id="insights-summary")
        yield FactorTable(cursor_type="row", id="insights-factors")
        yield OptionTable(cursor_type="row", id="insights-options")

    def on_show(self) -> None:
        self._report_on(self._rated())

    @work(thread=True, exclusive=True, exit_on_error=False, group="insights")
    def _report_on(self, rated: list[Rating]) -> None:
        report = self._build_report(rated)
        self.app.call_from_thread(self.show_report, report)

    def show_report(self, report: LearnReport) -> None:
        self.report = report
        self.query_one("#insights-summary", Static).update(_summary(report))
        factors = self.query_one(FactorTable)
        factors.clear()
        largest = max((factor.importance for factor in report.factors), default=0.0)
        for number, factor in enumerate(report.factors):
            factors.add_row(
                factor.factor.label, length_bar(factor.importance, largest, MATTERS_WIDTH),
                f"{factor.importance:.2f}", str(len(factor.options)), key=str(number),
            )  # fmt: skip
        self._show_options(report.factors[0] if report.factors else None)

    @on(DataTable.RowHighlighted, "#insights-factors")
    def _factor_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.report is not None and event.row_key.value is not None:
            self._show_options(self.report.factors[int(event.row_key.value)])

    @on(DataTable.RowSelected, "#insights-factors")
    def _factor_chosen(self) -> None:
        self.query_one(OptionTable).focus()

    def _show_options(self, factor: FactorReport | None) -> None:
        if factor is self._shown and factor is not None:
            return
        self._shown = factor
        table = self.query_one(OptionTable)
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
        if self._shown is None:
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
