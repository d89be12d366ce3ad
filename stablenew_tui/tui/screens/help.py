"""F1 / ?: every key, where it works, and how to remap it."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from stablenew_tui.tui.keys import KeySection

KEYMAP_HINT = (
    "Remap any key in config.toml: [ui.keymap] with a binding id = keys, "
    'e.g. run = "ctrl+enter". Ctrl+P opens the command palette with every action.'
)

CLIPBOARD_HINT = (
    "Copying (y, Y on a result) goes through the terminal (OSC 52), so it works over SSH in "
    "most terminals; inside tmux it needs `set -g set-clipboard on` in ~/.tmux.conf."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,question_mark,q", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; height: 90%; border: round $primary;
                                  background: $surface; padding: 0 1; }
    """

    def __init__(self, sections: list[KeySection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "keys"
            for key_section in self.sections:
                table = Table(title=key_section.title, title_justify="left", expand=True, box=None)
                table.add_column("key", style="bold", width=16)
                table.add_column("action")
                table.add_column("id", style="dim")
                for binding in key_section.bindings:
                    if binding.description:
                        keys = " ".join(
                            self.app.get_key_display(Binding(key, binding.action))
                            for key in binding.key.split(",")
                        )
                        table.add_row(keys, binding.description, binding.id or "")
                yield Static(table)
            yield Static(KEYMAP_HINT)
            yield Static(CLIPBOARD_HINT)
