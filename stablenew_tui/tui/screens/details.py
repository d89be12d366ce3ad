"""Enter on a Results row: everything about that image on one scrolling page, with the keys
that act on it (full screen, prompt to the editor, reuse the seed, copy, make it again).

The details are read before the view opens (in a thread: a long run's manifest is megabytes),
so its first frame shows them, with no "reading…" in between. The view is made once and shown
again for each image: Textual 8 keeps the render caches of up to 1,024 widgets alive after
they are gone (`StylesCache.get_inner_outer` is an `lru_cache` on the instance), so new
widgets for every image would leave thousands of objects behind each time for the garbage
collector to scan.
"""

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

from stablenew_tui.services.details import GLOBAL_NEGATIVE, DetailSection, ImageDetails
from stablenew_tui.services.results import ResultRow
from stablenew_tui.tui.image_keys import ImageAction, image_bindings
from stablenew_tui.tui.keys import bindings_of
from stablenew_tui.tui.widgets.key_hints import KeyHints

LABEL_WIDTH = 14
LABEL_WIDTH_MAX = 24  # a longer setting's name folds rather than squeeze its value
# Prompt, made with, image, a stage each (txt2img, img2img, upscale), infotext; the last
# widget takes whatever more there is.
MAX_SECTIONS = 8


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

    def __init__(self, act: Callable[[ImageAction, ResultRow], None], keymap: dict[str, str]):
        """`act` does what an image key asks, for the image shown."""
        super().__init__()
        self.act = act
        self.keymap = keymap
        self.row: ResultRow | None = None
        self.details: ImageDetails | None = None

    def compose(self) -> ComposeResult:
        yield Label(id="title")
        with VerticalScroll(id="scroll"):
            # One widget per section, so only those in sight are drawn.
            for _ in range(MAX_SECTIONS):
                yield Static(classes="section")
        yield KeyHints(id="key-hints")

    def on_mount(self) -> None:
        self.query_one(KeyHints).show_bindings(bindings_of(DetailsScreen), self.keymap)
        self._draw()

    def show(self, row: ResultRow, details: ImageDetails) -> None:
        """The image to show, before the view is pushed."""
        self.row, self.details = row, details
        if self.is_mounted:
            self._draw()

    def _draw(self) -> None:
        if self.row is None or self.details is None:
            return
        stars = "★" * self.row.rating if self.row.rating else "not rated"
        self.query_one("#title", Label).update(f"image details · {stars}")
        sections = self.details.sections
        parts = [[section] for section in sections[: MAX_SECTIONS - 1]]
        if sections[MAX_SECTIONS - 1 :]:
            parts.append(sections[MAX_SECTIONS - 1 :])
        for index, widget in enumerate(self.query(".section").results(Static)):
            widget.display = index < len(parts)
            if widget.display:
                widget.update(Group(*(render_section(section) for section in parts[index])))
        scroll = self.query_one("#scroll", VerticalScroll)
        scroll.scroll_home(animate=False)
        scroll.focus()

    def action_scroll(self, direction: str) -> None:
        scroll = self.query_one("#scroll", VerticalScroll)
        scroll.scroll_down() if direction == "down" else scroll.scroll_up()

    def action_image(self, name: str) -> None:
        if self.row is not None:
            self.act(ImageAction(name), self.row)


def render_section(section: DetailSection) -> Group:
    """A title over a table of labels and their values, wrapped beside them."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(min_width=LABEL_WIDTH, max_width=LABEL_WIDTH_MAX, style="dim",
                     overflow="fold")  # fmt: skip
    table.add_column(ratio=1, overflow="fold")
    for label, value in section.rows:
        # The run's global negative stands apart from the prompt's own negative.
        table.add_row(label, Text(value, style="italic" if label == GLOBAL_NEGATIVE else ""))
    return Group(Text(section.title, style="bold underline"), table, Text(""))
