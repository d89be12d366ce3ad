"""`a` on the Nodes tab: the URL of a WebUI to add for this session. A URL that cannot be a
node's address is named in a notification and the dialog stays open to fix it; a good one is
probed and added by the Nodes tab."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from stablenew_tui.errors import InputError
from stablenew_tui.services.nodes import node_from_url


class AddNodeDialog(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="add_node.cancel")]
    DEFAULT_CSS = """
    AddNodeDialog { align: center middle; }
    AddNodeDialog > Vertical { width: 64; max-width: 95%; height: auto; padding: 0 1;
                               border: round $primary; background: $surface; }
    AddNodeDialog #hint { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "add a node for this session"
            yield Input(placeholder="http://gpu2:7860", id="url")
            yield Label("Enter: probe and add · Esc: cancel", id="hint")

    @on(Input.Submitted, "#url")
    def _submitted(self, message: Input.Submitted) -> None:
        url = message.value.strip()
        try:
            node_from_url(url, what="node URL")
        except InputError as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        self.dismiss(url)
