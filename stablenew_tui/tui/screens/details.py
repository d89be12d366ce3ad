"""Enter on a Results row: everything about that image on one scrolling page, with the keys
that act on it (full screen, prompt to the editor, reuse the seed, copy, make it again).

The details are read before the view opens (in a thread: a long run's manifest is megabytes),
so its first frame shows them, with no "reading…" in between."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, Static

from stablenew_tui.services.details import ImageDetails
from stablenew_tui.services.results import ResultRow
from stablenew_tui.tui.image_keys import ImageAction, image_bindings
from stablenew_tui.tui.keys import bindings_of
from stablenew_tui.tui.widgets.key_hints import KeyHints

LABEL_WIDTH = 14
LABEL_WIDTH_MAX = 24  # a longer setting's name folds rather than squeeze its value


class DetailsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="details.close"),
        Binding("j", "scroll('down')", "Down", show=False, id="details.down", system=True),
        Binding("k", "scroll('up')", "Up", show=False, id="details.up", system=True),
        *image_bindings("details", hints=True),
    ]
    DEFAULT_CSS = """
    DetailsScreen #title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    DetailsScreen #scroll { height: 1fr; padding: 0 1; }
    DetailsScreen .section { height: auto; }
    """

    def __init__(
        self, row: ResultRow, details: ImageDetails,
        act: Callable[[ImageAction, ResultRow], None], keymap: dict[str, str],
    ) -> None:  # fmt: skip
        super().__init__()
        self.row = row
        self.details = details
        self.act = act  # does what an image key asks, for this row
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        stars = "★" * self.row.rating if self.row.rating else "not rated"
        yield Label(f"image details · {stars}", id="title")
        with VerticalScroll(id="scroll"):
            yield from render_sections(self.details)
        yield KeyHints(id="key-hints")

    def on_mount(self) -> None:
        self.query_one(KeyHints).show_bindings(bindings_of(DetailsScreen), self.keymap)
        self.query_one("#scroll").focus()

    def action_scroll(self, direction: str) -> None:
        scroll = self.query_one("#scroll", VerticalScroll)
        scroll.scroll_down() if direction == "down" else scroll.scroll_up()

    def action_image(self, name: str) -> None:
        self.act(ImageAction(name), self.row)


def render_sections(details: ImageDetails) -> list[Static]:
    """One widget per section, so only those in sight are drawn: a title over a table of
    labels and their values, wrapped beside them."""
    sections = []
    for section in details.sections:
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(min_width=LABEL_WIDTH, max_width=LABEL_WIDTH_MAX, style="dim",
                         overflow="fold")  # fmt: skip
        table.add_column(ratio=1, overflow="fold")
        for label, value in section.rows:
            table.add_row(label, Text(value))
        title = Text(section.title, style="bold underline")
        sections.append(Static(Group(title, table, Text("")), classes="section"))
    return sections
