"""What the image keys do, from a Results row or its details view, and refining the marked
rows. Each action is a call on the services or a change to the main screen's editor or cards;
the screens it opens (details, full-screen preview, the refine dialog) only show and ask."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from textual.widgets import Input

from stablenew_tui.pipeline.refine import REFINE_STAGES, RefineRequest
from stablenew_tui.services.control import QueuedRun
from stablenew_tui.services.details import image_details
from stablenew_tui.services.results import ResultRow
from stablenew_tui.tui.clipboard import copy
from stablenew_tui.tui.image_keys import ImageAction
from stablenew_tui.tui.screens.details import DetailsScreen
from stablenew_tui.tui.screens.preview import FullPreview
from stablenew_tui.tui.screens.refine import RefineDialog
from stablenew_tui.tui.widgets.prompt_editor import PromptEditor
from stablenew_tui.tui.widgets.results import ResultsTable
from stablenew_tui.tui.widgets.stage_cards import StageCards

if TYPE_CHECKING:
    from stablenew_tui.tui.screens.main import MainScreen

SEED_FIELD = "#field-txt2img-seed"
View = TypeVar("View", DetailsScreen, FullPreview)


class ImageActions:
    def __init__(self, main: MainScreen) -> None:
        self.main = main
        self.services = main.services

    @property
    def _table(self) -> ResultsTable:
        return self.main.query_one(ResultsTable)

    def run(self, action: ImageAction, row: ResultRow) -> None:
        match action:
            case ImageAction.DETAILS:
                self.main.run_worker(self._details(row), group="details", exclusive=True,
                                     exit_on_error=False)  # fmt: skip
            case ImageAction.PREVIEW:
                ui = self.services.config.ui
                preview = self._view(FullPreview, lambda: FullPreview(self, ui.image_preview,
                                                                      ui.keymap))  # fmt: skip
                preview.show(row)
                self.main.app.push_screen(preview, self._preview_closed)
            case ImageAction.TO_EDITOR:
                self._back_to_main()
                self.main.query_one(PromptEditor).load(row.prompt, row.negative)
                self.main.action_show_tab("prompt")
                self.main.notify("prompt and negative prompt in the editor", timeout=3)
            case ImageAction.REUSE_SEED:
                self._reuse_seed(row)
            case ImageAction.COPY_PROMPT:
                copy(self.main.app, row.prompt, "prompt")
            case ImageAction.COPY_PATH:
                copy(self.main.app, row.path, "path")
            case ImageAction.AGAIN | ImageAction.AGAIN_NEW_SEED:
                self._again(row, new_seed=action is ImageAction.AGAIN_NEW_SEED)

    async def _details(self, row: ResultRow) -> None:
        """Read the details in a thread, then open the view with them."""
        details = await asyncio.to_thread(image_details, row.path)
        keymap = self.services.config.ui.keymap
        view = self._view(DetailsScreen, lambda: DetailsScreen(self.run, keymap))
        view.show(row, details)
        if self.main.app.screen is not view:
            self.main.app.push_screen(view)

    def _preview_closed(self, row: ResultRow | None) -> None:
        """Back from the full-screen preview to the details view it was opened from: the
        details are those of the image shown last, the one stepped to there, as the
        Results table's cursor is."""
        details = self.main.app.screen
        if row is not None and isinstance(details, DetailsScreen) and details.row != row:
            self.run(ImageAction.DETAILS, row)

    def _view(self, kind: type[View], make: Callable[[], View]) -> View:
        """The one view of this kind, made the first time it is needed and kept (installed)
        while the app runs."""
        app, name = self.main.app, kind.__name__
        if not app.is_screen_installed(name):
            app.install_screen(make(), name)
        view = app.get_screen(name)
        assert isinstance(view, kind)
        return view

    def _back_to_main(self) -> None:
        while self.main.app.screen is not self.main:
            self.main.app.pop_screen()

    def _reuse_seed(self, row: ResultRow) -> None:
        if row.seed is None:
            self.main.notify("this image's seed is not known", severity="warning")
            return
        self.main.query_one(SEED_FIELD, Input).value = str(row.seed)
        self.main.notify(f"seed {row.seed} in the txt2img card: the next run starts from it")

    def _again(self, row: ResultRow, *, new_seed: bool) -> None:
        if row.job_id is None or row.seed is None:
            self.main.notify("this image's job is not known here", severity="warning")
            return
        seed = self.services.new_seed() if new_seed else row.seed
        self._submit(
            self.services.control.queue_again(row.job_id, seed), f"making it again, seed {seed}"
        )

    # -- refining the marked rows --------------------------------------------------------

    def refine_marked(self) -> None:
        """Ask which stages, then send the marked images (or the selected one) on."""
        rows = self._table.marked_rows() or [row for row in [self._table.selected] if row]
        if not rows:
            self.main.notify("no image to refine: mark some with space", severity="warning")
            return
        cards = self.main.query_one(StageCards)
        invalid = cards.invalid_fields()
        if invalid:
            self.main.notify(f"fix these first: {', '.join(invalid)}", severity="error")
            return
        settings = cards.values()
        chosen = [stage for stage in REFINE_STAGES if stage in settings["stages"]]

        def refine(stages: list[str] | None) -> None:
            if stages is None:
                return
            request = RefineRequest([row.path for row in rows], stages, flags=cards.changed())
            done = f"refining {len(rows)} image(s): {', '.join(stages)}"
            self._submit(self.services.control.queue_refine(request), done)
            self._table.clear_marks()

        dialog = RefineDialog(len(rows), chosen or list(REFINE_STAGES), settings)
        self.main.app.push_screen(dialog, refine)

    def _submit(self, queueing: Awaitable[QueuedRun], done: str) -> None:
        """Plan and line up a run in the background; errors become notifications there."""

        async def submit() -> None:
            queued = await queueing
            after = f", after {queued.ahead} run(s) already queued" if queued.ahead else ""
            self.main.notify(f"{done}{after}", timeout=4)

        self.main.run_worker(submit(), group="prepare", exit_on_error=False)

    # -- the preview's navigator ---------------------------------------------------------

    def step(self, delta: int) -> ResultRow | None:
        table = self._table
        if table.row_count:
            table.move_cursor(row=max(0, min(table.cursor_row + delta, table.row_count - 1)))
        return table.selected

    def position(self, row: ResultRow) -> tuple[int, int]:
        table = self._table
        place = table.get_row_index(row.path) + 1 if row.path in table.rows else 0
        return place, table.row_count

    def rate(self, row: ResultRow, rating: int) -> None:
        self._table.rate(row, rating)
