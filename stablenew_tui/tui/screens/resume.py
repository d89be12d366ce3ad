"""Runs left unfinished (by an earlier session, an interrupt, a crash): said at start, and
chosen here ("Resume run…") to be made to the end."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from stablenew_tui.services.control import UnfinishedRun
from stablenew_tui.tui.keys import bindings_of
from stablenew_tui.tui.screens.pack_browser import VimOptionList
from stablenew_tui.tui.widgets.key_hints import key_display
from stablenew_tui.tui.widgets.run_progress import RunProgress

if TYPE_CHECKING:
    from stablenew_tui.tui.screens.main import MainScreen

NAME_WIDTH = 32


def describe(unfinished: UnfinishedRun) -> str:
    """`a lighthouse at dusk · 3 of 20 left, 1 failed · 12-01 13:02`, and who makes it now."""
    run, counts = unfinished.run, unfinished.counts
    name = " ".join(run.name.split())
    name = name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"
    text = f"{name} · {unfinished.left} of {unfinished.total} left"
    if counts.get("failed"):
        text += f", {counts['failed']} failed"
    text += f" · {time.strftime('%m-%d %H:%M', time.localtime(run.created))}"
    if unfinished.holder is not None:
        text += f" · being made by {unfinished.holder.describe()}"
    return text


def start_notice(runs: list[UnfinishedRun], key: str) -> str:
    """What is said at start when runs were left unfinished."""
    listed = "\n".join(f"• {describe(run)}" for run in runs[:3])
    more = f"\n… and {len(runs) - 3} more" if len(runs) > 3 else ""
    return f"{len(runs)} unfinished run(s):\n{listed}{more}\n{key}: resume one"


class ResumeChooser(ModalScreen[str | None]):
    """Enter resumes the highlighted run (its id is the result); Esc closes."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close", id="resume.close")]
    DEFAULT_CSS = """
    ResumeChooser { align: center middle; }
    ResumeChooser > Vertical { width: 90%; height: auto; max-height: 80%;
                               border: round $primary; background: $surface; }
    ResumeChooser OptionList { height: auto; max-height: 20; border: none; }
    ResumeChooser #hint { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, runs: list[UnfinishedRun]) -> None:
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "resume run"
            yield VimOptionList(
                *(Option(describe(unfinished), id=unfinished.run.id) for unfinished in self.runs),
                id="runs",
            )
            yield Label("Enter: resume · Esc: close", id="hint")

    @on(OptionList.OptionSelected, "#runs")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class UnfinishedRuns:
    """The main screen's part: say at start which runs are unfinished; choose one; resume it
    (it waits behind the runs already lined up, and for a node to answer)."""

    def __init__(self, main: MainScreen) -> None:
        self.main = main
        self.control = main.services.control

    def key(self) -> str:
        """The key that offers the runs to resume, as remapped in the keymap."""
        binding = next(b for b in bindings_of(type(self.main)) if b.id == "resume_run")
        return key_display(self.main.app, binding, self.main.services.config.ui.keymap)

    def list_at_start(self) -> None:
        runs = self.control.unfinished_runs()
        if runs:
            self.main.notify(start_notice(runs, self.key()), title="resume", timeout=15)

    def choose(self) -> None:
        runs = self.control.unfinished_runs()
        if not runs:
            self.main.notify("no unfinished run to resume")
            return
        self.main.app.push_screen(ResumeChooser(runs), lambda run_id: self._chosen(runs, run_id))

    def _chosen(self, runs: list[UnfinishedRun], run_id: str | None) -> None:
        if run_id is not None:
            if not self.control.waiting_runs:  # else one asked before starts first
                left = next(run.left for run in runs if run.run.id == run_id)
                self.main.query_one(RunProgress).expect_run(left)
            self.main.run_worker(self._resume(run_id), group="prepare", exit_on_error=False)

    async def _resume(self, run_id: str) -> None:
        queued = await self.control.resume_run(run_id)
        if queued is None:  # cancelled while it waited for a node
            return
        after = f", after {queued.ahead} run(s) already queued" if queued.ahead else ""
        self.main.notify(f"resuming {queued.run.name!r}: {queued.images} image(s) to make{after}")
