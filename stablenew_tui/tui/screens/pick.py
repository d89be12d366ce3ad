"""Pick mode: two images of a comparison side by side; a key says which is better.

Opened from the command palette ("Compare: pick the better…") on the comparison the Results
selection belongs to, or the newest one. ←/→ (or h/l) picks the left or right image, s skips
the pair, Esc ends. Each pick is written at once (`services.picking`), so ending at any time
loses nothing; the next pair is the one that teaches the ranking most. The images are drawn
as the preview draws them.
"""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Label

from stablenew_tui.learning.pick_report import cell_label
from stablenew_tui.learning.picks import PickedImage
from stablenew_tui.services.picking import PickSession
from stablenew_tui.tui.keys import bindings_of
from stablenew_tui.tui.screens.preview import preview_method
from stablenew_tui.tui.widgets.key_hints import KeyHints
from stablenew_tui.tui.widgets.results import ImagePreview

SIDES = ("left", "right")


class PickScreen(Screen[None]):
    BINDINGS = [
        Binding("left,h", "pick('left')", "Left is better", key_display="←", id="pick.left"),
        Binding("right,l", "pick('right')", "Right is better", key_display="→", id="pick.right"),
        Binding("s,space", "skip", "Skip pair", key_display="s", id="pick.skip"),
        Binding("escape,q", "app.pop_screen", "Done", id="pick.close"),
    ]
    DEFAULT_CSS = """
    PickScreen #caption { height: 1; padding: 0 1; background: $panel; }
    PickScreen #pair { height: 1fr; }
    PickScreen .side { width: 1fr; height: 1fr; }
    PickScreen .cell { height: 1; width: 1fr; content-align: center middle; text-style: bold; }
    PickScreen ImagePreview { width: 1fr; height: 1fr; border: none; align: center middle; }
    PickScreen ImagePreview > * { width: auto; height: auto; }
    """

    def __init__(self, session: PickSession, method: str, keymap: dict[str, str]) -> None:
        super().__init__()
        self.session = session
        self.method = preview_method(method)
        self.keymap = keymap
        self.pair: tuple[PickedImage, PickedImage] | None = None

    def compose(self) -> ComposeResult:
        yield Label(id="caption")
        with Horizontal(id="pair"):
            for side in SIDES:
                with Vertical(classes="side"):
                    yield Label(id=f"{side}-cell", classes="cell")
                    yield ImagePreview(self.method, id=f"{side}-image")
        yield KeyHints(id="key-hints")

    def on_mount(self) -> None:
        self.query_one(KeyHints).show_bindings(bindings_of(PickScreen), self.keymap)
        self._next()

    def _next(self) -> None:
        self.pair = self.session.next()
        if self.pair is None:
            self.notify("nothing left to compare", timeout=3)
            self.app.pop_screen()
            return
        for side, image in zip(SIDES, self.pair, strict=True):
            self.query_one(f"#{side}-cell", Label).update(cell_label(image.cell))
            preview = self.query_one(f"#{side}-image", ImagePreview)
            preview.clear()
            preview.show_image(image.path)
        self._caption()

    def _caption(self) -> None:
        session = self.session
        text = (
            f"{session.run.name} · {len(session.picks)} picks of this comparison "
            f"({session.made} now) · which is better?"
        )
        self.query_one("#caption", Label).update(text)

    async def action_pick(self, side: str) -> None:
        if self.pair is None:
            return
        left, right = self.pair
        preferred, other = (left, right) if side == "left" else (right, left)
        try:
            await asyncio.to_thread(self.session.pick, preferred, other)
        except OSError as error:
            self.notify(f"the pick was not saved: {error}", severity="error", timeout=10)
            return
        self._next()

    def action_skip(self) -> None:
        if self.pair is not None:
            self.session.skip(*self.pair)
            self._next()
