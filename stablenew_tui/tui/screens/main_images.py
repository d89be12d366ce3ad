"""The main screen's finished images: rows added to Results as their records are written,
ratings saved and learned from, and the image keys (details, full-screen preview, prompt to
the editor, reuse seed, copy, make again, refine the marked rows) handed to `ImageActions`."""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING

from textual import on, work
from textual.screen import Screen

from stablenew_tui.services.results import ResultRow
from stablenew_tui.tui.image_actions import ImageActions
from stablenew_tui.tui.services import TuiServices
from stablenew_tui.tui.widgets.prompt_editor import PromptEditor
from stablenew_tui.tui.widgets.results import ResultsTable

if TYPE_CHECKING:
    from textual.worker import Worker


class ImageWiring(Screen):
    """A part of `MainScreen`, which sets these:"""

    services: TuiServices
    image_actions: ImageActions
    _catalog_loaded: bool  # the models and samplers have been read from a node

    if TYPE_CHECKING:

        def load_catalog(self, refresh: bool = False) -> Worker[None]: ...

    @work(thread=True, exit_on_error=False, group="results")
    def _load_results(self, limit: int | None = None) -> None:
        """Rows for the images recorded since the last look (read in a thread); at start
        (`limit`), also what earlier sessions' ratings say for learned mode."""
        rows = self.services.results.new_rows(limit)
        if rows:
            self.app.call_from_thread(self._add_results, rows)
        if limit is not None:
            self.services.refresh_beliefs(self.app.call_from_thread(self.services.ratings.rated))
            self.app.call_from_thread(self.query_one(PromptEditor).refresh_view)

    def _add_results(self, rows: list[ResultRow]) -> None:
        """New rows only: the editor is redrawn when what learned mode draws from changes
        (ratings), not per image; redrawing it re-laid out the screen for each one."""
        table = self.query_one(ResultsTable)
        for row in rows:
            table.add_result(row)

    @on(ResultsTable.Rated)
    async def _rated(self, message: ResultsTable.Rated) -> None:
        rate = functools.partial(self.services.results.rate, message.row, message.rating)
        try:
            warning = await asyncio.to_thread(rate)  # an fsynced append: kept off the event loop
        except OSError as error:
            self.notify(f"the rating was not saved: {error}", severity="error", timeout=10)
            return
        self.notify(f"rated {message.rating}" if message.rating else "rating cleared", timeout=2)
        if warning:  # the rating is saved; only its run's summary.csv lags
            self.notify(warning, severity="warning", timeout=10)
        self._learn_from(self.services.ratings.rated())
        if self._catalog_loaded:
            self.load_catalog()  # favourites may have changed

    @work(thread=True, exclusive=True, exit_on_error=False, group="beliefs")
    def _learn_from(self, rated: list) -> None:
        """Learned mode draws from the ratings: the editor's next prompt may change."""
        self.services.refresh_beliefs(rated)
        self.app.call_from_thread(self.query_one(PromptEditor).refresh_view)

    @on(ResultsTable.Act)
    def _image_key(self, message: ResultsTable.Act) -> None:
        self.image_actions.run(message.action, message.row)

    def action_refine_marked(self) -> None:
        self.image_actions.refine_marked()
