"""F1 / ?: every key, where it works, how to remap it, and what the less obvious ones mean."""

from __future__ import annotations

import re

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from stablenew_tui.tui.keys import KeySection

KEYMAP_HINT = (
    "Remap any key in config.toml: [ui.keymap] with a binding id = keys, "
    'e.g. run = "ctrl+enter". {app.command_palette} opens the command palette with every '
    "action."
)
# What a first-time user cannot guess from a key's name. `{binding id}` is its key as mapped.
NOTES = (
    "Segments: {segments.lock} locks a segment's value for every run until "
    "{segments.unlock}. {segments.reroll} gives a segment another value for the next run only "
    "(↻), and {segments.lock} after it keeps that value; {segments.reroll_all} draws every "
    "unlocked segment again, for the next run only. Random mode stays random: the runs after "
    "draw from their own seeds.",
    "Runs: a run asked for while no node answers waits, and starts once one is READY. "
    "{pause} holds the queue (PAUSED in the progress line); {interrupt} stops the image being "
    "made and the run, and {resume_run} resumes the run's images left.",
    "Results: {results.filter} lists all, rated or unrated images; {results.order} puts the "
    "best rated first, or the newest.",
    "Nodes: {nodes.drain} drains the selected node: it finishes the image it is making, then "
    "takes no more until {nodes.undrain}; with every node drained the run holds. "
    "{nodes.add} adds a node by its URL for this session: it is probed first, joins the run "
    "being made and serves the later ones.",
)
# The same widths in every section, so the columns line up down the whole screen.
KEY_WIDTH, ACTION_WIDTH = 16, 24

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
    HelpScreen .notes { margin-top: 1; }
    """

    def __init__(self, sections: list[KeySection], keymap: dict[str, str]) -> None:
        super().__init__()
        self.sections = sections
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        keys: dict[str, str] = {}
        with VerticalScroll() as scroll:
            scroll.border_title = "keys"
            for key_section in self.sections:
                table = Table(title=key_section.title, title_justify="left", expand=True, box=None)
                table.add_column("key", style="bold", width=KEY_WIDTH, no_wrap=True)
                table.add_column("action", width=ACTION_WIDTH, no_wrap=True)
                table.add_column("id", style="dim", no_wrap=True, overflow="ellipsis", ratio=1)
                for binding in key_section.bindings:
                    shown = self._keys(binding)
                    keys[binding.id or ""] = shown.split(" / ")[0]
                    if binding.description:
                        table.add_row(shown, binding.description, binding.id or "")
                yield Static(table)
            keys["app.command_palette"] = self.app.get_key_display(
                Binding(self.app.COMMAND_PALETTE_BINDING, "command_palette")
            )
            for note in (*NOTES, KEYMAP_HINT, CLIPBOARD_HINT):
                text = re.sub(r"\{([\w.]+)\}", lambda found: keys[found.group(1)], note)
                yield Static(text, classes="notes", markup=False)

    def _keys(self, binding: Binding) -> str:
        """Every key of `binding`, as remapped in the keymap."""
        keys = self.keymap.get(binding.id or "", binding.key)
        return " / ".join(
            self.app.get_key_display(Binding(key, binding.action)) for key in keys.split(",")
        )
