"""Pick the classic StableNew preset the next runs take as a settings layer, or none."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

NO_PRESET = "(no preset)"


@dataclass(frozen=True)
class PresetChoice:
    name: str | None  # None: run without a preset


class PresetChooser(ModalScreen[PresetChoice | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close", id="presets.close")]
    DEFAULT_CSS = """
    PresetChooser { align: center middle; }
    PresetChooser > Vertical { width: 60; max-width: 90%; height: 70%; border: round $primary;
                               background: $surface; }
    PresetChooser OptionList { height: 1fr; }
    PresetChooser #hint { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, names: list[str], current: str | None) -> None:
        super().__init__()
        self.names = names
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield OptionList(
                Option(NO_PRESET, id=""), *(Option(name, id=name) for name in self.names),
                id="presets",
            )  # fmt: skip
            yield Label("Enter: use for the next runs · Esc: close", id="hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.border_title = "presets"
        names = [None, *self.names]
        options.highlighted = names.index(self.current) if self.current in names else 0
        if not self.names:
            self.notify("no presets found: set [paths] preset_folders in the config",
                        severity="warning")  # fmt: skip

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(PresetChoice(event.option.id or None))
