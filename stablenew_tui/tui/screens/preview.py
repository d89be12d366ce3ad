"""`v` on a Results row: the image on the whole screen, stepping through the results and rating
them without leaving it.

Drawn with the best method the terminal offers (kitty or sixel graphics, else half blocks),
as the preview pane is; inside tmux, which passes graphics through only in some versions and
set-ups, `auto` means half blocks, which always work there. Made once and shown again for
each image, as the details view is (see there why).
"""

from __future__ import annotations

import os
from typing import Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Label

from stablenew_tui.services.results import ResultRow
from stablenew_tui.tui.keys import bindings_of
from stablenew_tui.tui.widgets.key_hints import KeyHints
from stablenew_tui.tui.widgets.results import ImagePreview


class ResultsNavigator(Protocol):
    """The results the preview steps through, in the order the table shows them."""

    def step(self, delta: int) -> ResultRow | None:
        """Move `delta` rows on from the current one; the row now current."""

    def position(self, row: ResultRow) -> tuple[int, int]:
        """(1-based place, how many results)."""

    def rate(self, row: ResultRow, rating: int) -> None:
        """Rate 1–5, or clear with 0."""


class FullPreview(Screen[ResultRow | None]):
    """Closed, it gives the image it showed last (the one stepped to, not the first)."""

    BINDINGS = [
        Binding("escape,q,v", "close", "Back", id="preview.close"),
        Binding("right,n,j", "step(1)", "Next", key_display="→/n", id="preview.next"),
        Binding("left,p,k", "step(-1)", "Previous", key_display="←/p", id="preview.previous"),
        Binding("1", "rate(1)", "Rate", key_display="1-5", id="preview.rate_1"),
        *(Binding(str(n), f"rate({n})", f"Rate {n}", show=False, id=f"preview.rate_{n}")
          for n in range(2, 6)),
        Binding("0", "rate(0)", "Clear rating", id="preview.clear_rating"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    FullPreview #caption { height: 1; padding: 0 1; background: $panel; }
    FullPreview ImagePreview { width: 1fr; height: 1fr; border: none; align: center middle; }
    /* As large as fits, in its own proportions. */
    FullPreview ImagePreview > * { width: auto; height: auto; }
    """

    def __init__(self, navigator: ResultsNavigator, method: str, keymap: dict[str, str]):
        super().__init__()
        self.navigator = navigator
        self.method = preview_method(method)
        self.keymap = keymap
        self.row: ResultRow | None = None

    def compose(self) -> ComposeResult:
        yield Label(id="caption")
        yield ImagePreview(self.method, id="full-preview")
        yield KeyHints(id="key-hints")

    def on_mount(self) -> None:
        self.query_one(KeyHints).show_bindings(bindings_of(FullPreview), self.keymap)
        self._draw()

    def show(self, row: ResultRow) -> None:
        """The image to show, before the view is pushed."""
        self.row = row
        if self.is_mounted:
            self._draw()

    def _draw(self) -> None:
        if self.row is not None:
            self._caption(self.row)
            preview = self.query_one(ImagePreview)
            preview.clear()
            preview.show_image(self.row.path)

    def _caption(self, row: ResultRow) -> None:
        place, count = self.navigator.position(row)
        stars = "★" * row.rating if row.rating else "·"
        name = os.path.basename(row.path)
        self.query_one("#caption", Label).update(f"{place} of {count}  {stars}  {name}")

    def action_close(self) -> None:
        self.dismiss(self.row)

    def action_step(self, delta: int) -> None:
        row = self.navigator.step(delta)
        if row is not None and (self.row is None or row.path != self.row.path):
            self.show(row)

    def action_rate(self, rating: int) -> None:
        if self.row is not None:
            self.navigator.rate(self.row, rating)
            self._caption(self.row)


def preview_method(configured: str) -> str:
    """The renderer to use: as configured, except `auto` inside tmux means half blocks."""
    return "halfcell" if configured == "auto" and os.environ.get("TMUX") else configured
