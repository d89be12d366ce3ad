"""A table drawn line by line (Textual's line API): a header that stays put over rows of
cells, and a cursor row kept in sight, moved by keys and clicks. The queue and the Nodes tab
are such tables; each says how its cells fill a line (`draw_row`).

Not a DataTable: a DataTable re-renders every visible cell through Rich whenever any cell
changes or it gains focus, which made each switch to the Queue tab cost ~5 ms while a batch
streams. A line here is a few styled segments.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


class RowView(ScrollView, can_focus=True):
    """Set `HEADER` and `shown`, the cells of each row in order."""

    HEADER: ClassVar[tuple[str, ...]] = ()
    COMPONENT_CLASSES: ClassVar[set[str]] = {"row-view--header", "row-view--cursor"}
    DEFAULT_CSS = """
    RowView {
        height: 1fr; overflow-x: hidden; border: round $panel-lighten-2;
        background: $surface; color: $foreground;
        & > .row-view--header { text-style: bold; background: $panel; }
        & > .row-view--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .row-view--cursor {
            background: $block-cursor-background; color: $block-cursor-foreground;
        }
    }
    """

    cursor = reactive(0, init=False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shown: list[tuple[str, ...]] = []

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self.draw_row(self.HEADER, width, "row-view--header")
        row = self.scroll_offset.y + y - 1
        if row >= len(self.shown):
            return self.draw_beyond(y, width)
        return self.draw_row(self.shown[row], width, self.row_component(row))

    def draw_row(self, cells: tuple[str, ...], width: int, component: str) -> Strip:
        """One row (or the header) in its columns, styled as `component` says."""
        raise NotImplementedError

    def draw_beyond(self, y: int, width: int) -> Strip:
        """Line `y` of the view below the last row."""
        return Strip.blank(width, self.rich_style)

    def row_component(self, row: int) -> str:
        """The component class that styles `row`: the cursor's, else none."""
        return "row-view--cursor" if row == self.cursor else ""

    def style_of(self, component: str) -> Style:
        style = self.rich_style
        return style + self.get_component_rich_style(component) if component else style

    def line(self, text: str, width: int, component: str) -> Strip:
        """`text` as one segment across the whole width."""
        return Strip([Segment(set_cell_size(text, width), self.style_of(component))], width)

    def watch_cursor(self) -> None:
        row_into_view(self, self.cursor)
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        row_into_view(self, self.cursor)

    def action_cursor(self, step: int) -> None:
        self.cursor = max(0, min(self.cursor + step, len(self.shown) - 1))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:  # the border or the header
            return
        row = self.scroll_offset.y + offset.y - 1
        if row < len(self.shown):
            self.cursor = row


def row_into_view(view: ScrollView, row: int) -> None:
    """Scroll a view whose first line is a header so `row` is in sight below it, at the size
    the view last had on screen (a hidden view has no region)."""
    rows_in_view = max(view.container_size.height - 1, 1)
    top = view.scroll_offset.y
    # `force`: right after new rows arrive Textual has not yet allowed scrolling.
    if row < top:
        view.scroll_to(y=row, animate=False, force=True)
    elif row >= top + rows_in_view:
        view.scroll_to(y=row - rows_in_view + 1, animate=False, force=True)
