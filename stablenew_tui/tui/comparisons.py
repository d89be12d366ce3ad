"""Comparison grids in the TUI: the dialog opened from the palette, its grid queued the way
Ctrl+R queues a run (the stage cards' changes, the preset in use, the dispatcher), and the
contact sheets drawn when a comparison run ends, said in the job log and a notification.

Planning runs in an app worker, not the dialog's: a dialog closed while its grid waits for a
node leaves the grid to be queued (or refused, in a notification) all the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.worker import WorkerFailed

from stablenew_tui.errors import StableNewError
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.services.comparisons import (
    DrawnSheets,
    axis_choices,
    comparison_flags,
    draw_sheets_as_runs_end,
    in_dialog_words,
)
from stablenew_tui.tui.screens.compare_dialog import ComparisonAsk, ComparisonDialog
from stablenew_tui.tui.screens.main import MainScreen
from stablenew_tui.tui.widgets.job_log import JobLog
from stablenew_tui.tui.widgets.prompt_editor import PromptEditor
from stablenew_tui.tui.widgets.stage_cards import StageCards
from stablenew_tui.webui.errors import WebUIError

if TYPE_CHECKING:
    from stablenew_tui.tui.app import StableNewApp

MAKE_ENTRY = "Compare: make a grid…"
PICK_ENTRY = "Compare: pick the better…"


class ComparisonActions:
    def __init__(self, app: StableNewApp) -> None:
        self.app = app
        self.services = app.services

    def _main(self) -> MainScreen | None:
        return next((s for s in self.app.screen_stack if isinstance(s, MainScreen)), None)

    def open_dialog(self) -> None:
        main = self._main()
        if main is None:
            return
        main.query_one(PromptEditor).flush()
        text = self.services.draft.text
        seed = main.query_one(StageCards).values()["txt2img"].get("seed", -1)
        dialog = ComparisonDialog(
            _one_line(text), None if seed in (-1, None) else int(seed), self._choices,
            self._submit,
        )  # fmt: skip
        self.app.push_screen(dialog)

    async def _choices(self) -> dict[str, list[str]]:
        try:
            return axis_choices(await self.services.catalog())
        except WebUIError:  # no node answers: the values are typed, and checked later
            return {}

    async def _submit(self, ask: ComparisonAsk) -> bool:
        worker = self.app.run_worker(self._queue(ask), group="compare", exit_on_error=False)
        try:
            return bool(await worker.wait())
        except WorkerFailed as failed:  # a bug guard: said, never a traceback
            self.app.notify(f"unexpected: {failed.error!r}", severity="error", timeout=10)
            return False

    async def _queue(self, ask: ComparisonAsk) -> bool:
        main = self._main()
        if main is None:
            return False
        cards = main.query_one(StageCards)
        invalid = cards.invalid_fields()
        if invalid:
            self.app.notify(f"fix these first: {'; '.join(invalid)}", severity="error")
            return False
        draft = self.services.draft
        request = RunRequest(
            prompt=ask.prompt, negative=draft.negative,
            flags=comparison_flags(cards.changed(), ask.seed), preset=self.services.preset,
            random_seed=self.services.new_seed(), grid=ask.grid,
        )  # fmt: skip
        if ask.prompt == _one_line(draft.text):  # the editor's: drawn as the editor draws it
            request.prompt, request.mode = draft.text, draft.mode
            request.locks, request.prompt_seed = draft.run_locks, draft.prompt_seed
        if not self.services.monitor.ready:
            self.app.notify("no node answers yet: the grid is checked and queued when one is")
        try:
            queued = await self.services.control.queue_run(request)
        except StableNewError as error:
            self.app.notify(in_dialog_words(str(error)), severity="error", timeout=10)
            return False
        if queued is None:  # cancelled (F12) while it waited for a node
            return False
        after = f", after {queued.ahead} run(s) already queued" if queued.ahead else ""
        self.app.notify(f"queued a comparison of {queued.images} cells{after}", timeout=5)
        for warning in queued.warnings:
            self.app.notify(warning, severity="warning", timeout=10)
        return True

    async def draw_sheets(self) -> None:
        """Until the app ends: each comparison run's sheets when it ends."""
        queue = self.services.launcher.queue
        await draw_sheets_as_runs_end(self.services.events, queue, self._sheets_drawn)

    def _sheets_drawn(self, drawn: DrawnSheets) -> None:
        if drawn.problem:
            self._say(drawn.problem, problem=True)
            return
        paths = ", ".join(str(path) for path in drawn.sheets)
        missing = f" ({drawn.missing} cell(s) without an image: resume the run to make them)"
        said = f"contact sheet of {drawn.run.name}: {paths}{missing if drawn.missing else ''}"
        self._say(said, problem=bool(drawn.missing))
        self.app.notify(f"{PICK_ENTRY} in the palette (Ctrl+P) picks the better images")

    def _say(self, text: str, *, problem: bool) -> None:
        main = self._main()
        if main is not None:
            main.query_one(JobLog).note(text, problem=problem)
        self.app.notify(text, severity="warning" if problem else "information", timeout=15)


def _one_line(text: str) -> str:
    """A template as a one-line input shows it."""
    return " ".join(text.splitlines())
