"""Finished images: a rating table, and a preview of the selected image.

`1`–`5` rate the selected image, `0` clears its rating; `f` shows all, rated or unrated images
and `o` puts the best rated first; Enter opens its details, space marks it to be refined (`i`),
and the image keys act on it. The columns fit the table's width: time, rating and prompt
always, then model, sampler and seed while the prompt keeps room to be read. Decoding for the
preview happens in a thread, so a large PNG never stalls the keyboard.
"""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static

from stablenew_tui.services.results import ResultRow
from stablenew_tui.tui.image_keys import ImageAction, image_bindings

PREVIEW_PIXELS = 768  # decode to this size at most: a terminal never shows more
# (key, width): always shown; then the optional ones, in the order they give way.
ALWAYS_SHOWN = (("mark", 1), ("time", 8), ("rating", 6))
OPTIONAL = (("model", 16), ("sampler", 12), ("seed", 10))
PROMPT_MIN_WIDTH = 20  # an optional column shows only if the prompt keeps this much
CELL_PADDING = 2  # a cell's padding, one each side


class Shown(StrEnum):
    """Which results the table lists."""

    ALL = "all"
    RATED = "rated"
    UNRATED = "unrated"

    def admits(self, row: ResultRow) -> bool:
        return self is Shown.ALL or (row.rating is not None) == (self is Shown.RATED)


class ResultsTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="results.down", system=True),
        Binding("k", "cursor_up", "Up", show=False, id="results.up", system=True),
        Binding("1", "rate(1)", "Rate", key_display="1-5", id="results.rate_1"),
        *(Binding(str(n), f"rate({n})", f"Rate {n}", show=False, id=f"results.rate_{n}")
          for n in range(2, 6)),
        Binding("0", "rate(0)", "Clear rating", id="results.clear_rating"),
        Binding("enter", "image('details')", "Details", id="results.details"),
        Binding("space", "mark", "Mark", id="results.mark"),
        Binding("i", "screen.refine_marked", "Refine marked", id="results.refine"),
        *image_bindings("results"),
        Binding("f", "filter", "All/rated/unrated", id="results.filter"),
        Binding("o", "order", "Newest/best first", id="results.order"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    ResultsTable { width: 3fr; height: 1fr; border: round $panel-lighten-2;
                   scrollbar-gutter: stable; }
    """

    class Rated(Message):
        def __init__(self, row: ResultRow, rating: int | None) -> None:
            self.row = row
            self.rating = rating
            super().__init__()

    class Selected(Message):
        def __init__(self, row: ResultRow) -> None:
            self.row = row
            super().__init__()

    class Act(Message):
        """An image key was pressed on `row`."""

        def __init__(self, action: ImageAction, row: ResultRow) -> None:
            self.action = action
            self.row = row
            super().__init__()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.results: dict[str, ResultRow] = {}  # every result, drawn or waiting to be
        self.shown = Shown.ALL
        self.best_first = False
        self._waiting: list[ResultRow] = []
        self._announced: str | None = None  # the path last sent as Selected
        self.marked: list[str] = []  # paths marked to be refined, in the order marked
        self._columns: tuple[tuple[str, int], ...] = ()  # (key, width) of the columns drawn

    def on_mount(self) -> None:
        self._fit_columns()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_columns()
        self._bound_render_caches()

    def _bound_render_caches(self) -> None:
        """Keep two screens of rendered rows, not DataTable's thousands. Its caches are keyed
        by the table's update count and cursor, so each added row or cursor move leaves every
        entry stale; yet they stay until pushed out (10,000 cells and 1,000 lines, rows and
        row renderables: ~150,000 objects after 400 images), and every full garbage
        collection scans them, a pause of 100-300 ms while a batch streams with this tab in
        view. A repaint of the lines in view is all they serve."""
        lines = 2 * max(self.size.height, 1)
        caches = (
            (self._line_cache, lines), (self._row_render_cache, lines),
            (self._row_renderable_cache, lines),
            (self._cell_render_cache, lines * len(self._columns)),
        )  # fmt: skip
        for cache, size in caches:
            cache.maxsize = size
            cache.clear()

    def add_result(self, row: ResultRow) -> None:
        """Keep `row` for the next `show_waiting`. A table that grows makes Textual lay out
        the whole screen again, so rows are drawn in batches, and only while in view."""
        if row.path not in self.results:
            self.results[row.path] = row
            self._waiting.append(row)

    def show_waiting(self) -> None:
        """Draw the rows added since the last call, in the table's order, with the cursor
        kept on the image it was on."""
        if not self._waiting:
            return
        selected = self.selected
        for row in self._waiting:
            if self.shown.admits(row):
                self.add_row(*self._cells(row), key=row.path)
        self._waiting.clear()
        self._order(selected)

    def action_filter(self) -> None:
        """All results, then only the rated, then only the unrated ones."""
        kinds = list(Shown)
        self.shown = kinds[(kinds.index(self.shown) + 1) % len(kinds)]
        self._redraw()

    def action_order(self) -> None:
        """Newest first, or best rated first (newest first among equals)."""
        self.best_first = not self.best_first
        self._redraw()

    # -- drawing -------------------------------------------------------------------------

    def _fit_columns(self) -> None:
        """Columns for the width the table has; the rows drawn again when they change."""
        room = self.scrollable_content_region.width or 80 * 3 // 5
        room -= sum(width + CELL_PADDING for _, width in ALWAYS_SHOWN) + CELL_PADDING
        columns = list(ALWAYS_SHOWN)
        for key, width in OPTIONAL:
            if room - width - CELL_PADDING >= PROMPT_MIN_WIDTH:
                columns.append((key, width))
                room -= width + CELL_PADDING
        columns.append(("prompt", max(room, PROMPT_MIN_WIDTH)))
        if tuple(columns) != self._columns:
            self._columns = tuple(columns)
            self._redraw()

    def _redraw(self) -> None:
        """Every row again, with the columns, filter and order chosen now."""
        selected = self.selected
        self.clear(columns=True)
        for key, width in self._columns:
            self.add_column("" if key == "mark" else key, key=key, width=width)
        waiting = {row.path for row in self._waiting}
        for row in self.results.values():
            if row.path not in waiting and self.shown.admits(row):
                self.add_row(*self._cells(row), key=row.path)
        self.border_title = self._title()
        self._order(selected)

    def _order(self, selected: ResultRow | None) -> None:
        """Sort the rows, keep the cursor on `selected` if it is listed, and say which image
        the cursor is on (the preview follows it)."""
        if self.best_first:
            self.sort("rating", "time", key=_best_first, reverse=True)
        else:
            self.sort("time", key=lambda clock: clock.when, reverse=True)  # newest first
        if selected is not None and selected.path in self.rows:
            self.move_cursor(row=self.get_row_index(selected.path), animate=False)
        self._announce(self.selected)

    def _title(self) -> str:
        words = ["results"]
        if self.shown is not Shown.ALL:
            words.append(f"{self.shown.value} only")
        if self.best_first:
            words.append("best first")
        return " · ".join(words)

    def _cells(self, row: ResultRow) -> tuple[str, ...]:
        cells = {
            "mark": _mark(row.path in self.marked), "time": _Clock(row.time),
            "rating": _stars(row.rating),
            "seed": "" if row.seed is None else str(row.seed), "model": row.model,
            "sampler": row.sampler, "prompt": row.prompt,
        }  # fmt: skip
        return tuple(cells[key] for key, _ in self._columns)

    @property
    def selected(self) -> ResultRow | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self.results.get(key) if key is not None else None

    def action_rate(self, rating: int) -> None:
        row = self.selected
        if row is not None:
            self.rate(row, rating)

    def rate(self, row: ResultRow, rating: int) -> None:
        row.rating = rating or None
        self.post_message(self.Rated(row, row.rating))
        if row.path not in self.rows:
            return
        if not self.shown.admits(row):  # rated out of an "unrated only" list: the next one
            self.remove_row(row.path)
            self._announce(self.selected)
            return
        self.update_cell(row.path, "rating", _stars(row.rating))
        if self.best_first:
            self._order(row)

    def action_image(self, name: str) -> None:
        row = self.selected
        if row is not None:
            self.post_message(self.Act(ImageAction(name), row))

    def action_mark(self) -> None:
        """Mark the selected image to be refined, or unmark it; then go to the next."""
        row = self.selected
        if row is None:
            return
        if row.path in self.marked:
            self.marked.remove(row.path)
        else:
            self.marked.append(row.path)
        self.update_cell(row.path, "mark", _mark(row.path in self.marked))
        self.action_cursor_down()

    def marked_rows(self) -> list[ResultRow]:
        return [self.results[path] for path in self.marked]

    def clear_marks(self) -> None:
        for path in self.marked:
            if path in self.rows:
                self.update_cell(path, "mark", _mark(False))
        self.marked.clear()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # The row under the cursor now: a highlight reported while rows were being added
        # and sorted may name a row that has moved since.
        self._announce(self.selected)

    def _announce(self, row: ResultRow | None) -> None:
        """Say which image is selected, once per change: decoding it for the preview, and
        sending it to a kitty or sixel terminal, is too costly to repeat for nothing."""
        if row is not None and row.path != self._announced:
            self._announced = row.path
            self.post_message(self.Selected(row))


class _Clock(str):
    """A result's time of day as shown (HH:MM:SS), sorted by its whole timestamp: images
    made within one second keep their order, newest first."""

    when: float

    def __new__(cls, when: float) -> _Clock:
        clock = super().__new__(cls, time.strftime("%H:%M:%S", time.localtime(when)))
        clock.when = when
        return clock


def _mark(marked: bool) -> str:
    return "●" if marked else " "


def _stars(rating: int | None) -> str:
    return "★" * rating if rating else "·"


def _best_first(cells: tuple[str, _Clock]) -> tuple[int, float]:
    """Sort key of (rating, time) cells: more stars first, then the newest."""
    stars, clock = cells
    return stars.count("★"), clock.when


class ImagePreview(Static):
    """Shows one image with the configured renderer; nothing at all with method `none`."""

    DEFAULT_CSS = """
    ImagePreview { width: 2fr; height: 1fr; border: round $panel-lighten-2; }
    ImagePreview > * { width: 100%; height: 100%; }
    """

    def __init__(self, method: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.method = method
        self._image_widget: Widget | None = None

    def compose(self) -> ComposeResult:
        self.border_title = "preview"
        widget_class = _renderer(self.method)
        if widget_class is not None:
            self._image_widget = widget_class()
            yield self._image_widget

    def clear(self) -> None:
        """Show nothing until the next image is decoded, rather than the last one."""
        if self._image_widget is not None:
            self._image_widget.image = None  # type: ignore[attr-defined]

    @work(exclusive=True, thread=True, exit_on_error=False, group="preview")
    def show_image(self, path: str) -> None:
        if self._image_widget is None:
            return
        try:
            with PILImage.open(path) as image:
                image.thumbnail((PREVIEW_PIXELS, PREVIEW_PIXELS))
                decoded = image.convert("RGB")
        except (OSError, ValueError) as error:
            self.app.call_from_thread(self.notify, f"cannot preview {path}: {error}",
                                      severity="warning")  # fmt: skip
            return
        self.app.call_from_thread(setattr, self._image_widget, "image", decoded)
        self.app.call_from_thread(setattr, self, "border_subtitle", Path(path).name)


def _renderer(method: str) -> type[Widget] | None:
    if method == "none":
        return None
    from textual_image import widget

    return {
        "auto": widget.Image,
        "kitty": widget.TGPImage,
        "sixel": widget.SixelImage,
        "halfcell": widget.HalfcellImage,
        "unicode": widget.UnicodeImage,
    }[method]


class ResultsPane(Horizontal):
    DEFAULT_CSS = "ResultsPane { height: 1fr; }"

    def __init__(self, preview_method: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preview_method = preview_method

    def compose(self) -> ComposeResult:
        yield ResultsTable(id="results-table")
        yield ImagePreview(self.preview_method, id="preview")

    def on_results_table_selected(self, message: ResultsTable.Selected) -> None:
        self.query_one(ImagePreview).show_image(message.row.path)
