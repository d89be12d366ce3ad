"""The tab titles, one line, the one in view standing out.

One widget drawing one line rather than Textual's TabbedContent header, which is ten widgets
plus an underline that moves a frame after the switch: every switch repainted them all, twice.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

SEPARATOR = " "


class TabBar(Widget):
    DEFAULT_CSS = """
    TabBar {
        height: 1; width: 1fr; padding: 0 1; color: $text-muted;
        & > .tab-bar--active { color: $text; background: $accent; text-style: bold; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"tab-bar--active"}

    class Chosen(Message):
        """A tab title was clicked."""

        def __init__(self, tab: str) -> None:
            self.tab = tab
            super().__init__()

    def __init__(self, titles: dict[str, str], active: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.titles = titles
        self.active = active
        self._spans: list[tuple[int, int, str]] = []  # (start, end, tab) in cells

    def show_active(self, tab: str) -> None:
        self.active = tab
        self.refresh()  # one line of fixed size: no layout needed

    def render(self) -> Text:
        """Built at each render, so a new theme's colours apply at once."""
        active_style = self.get_component_rich_style("tab-bar--active")
        line = Text(no_wrap=True, overflow="ellipsis")
        self._spans = []
        for key, title in self.titles.items():
            start = line.cell_len
            line.append(f" {title} ", style=active_style if key == self.active else "")
            self._spans.append((start, line.cell_len, key))
            line.append(SEPARATOR)
        return line

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        for start, end, tab in self._spans:
            if start <= offset.x < end:
                self.post_message(self.Chosen(tab))
