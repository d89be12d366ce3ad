"""Pick a pack, then one of its prompts: Enter loads it into the editor, Ctrl+G runs the pack."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from stablenew_tui.errors import InputError
from stablenew_tui.prompts import Pack, PackInfo, load_pack
from stablenew_tui.tui.widgets.key_hints import key_display


@dataclass(frozen=True)
class PackChoice:
    pack: Pack
    prompt_index: int | None  # None: run the whole pack


class VimOptionList(OptionList):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="packs.down", system=True),
        Binding("k", "cursor_up", "Up", show=False, id="packs.up", system=True),
    ]


class PackBrowser(ModalScreen[PackChoice | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="packs.close"),
        Binding("ctrl+g", "run_pack", "Run whole pack", id="packs.run_pack"),
    ]
    # The hint is inside the dialog's frame: the screen's own key line stays readable below.
    DEFAULT_CSS = """
    PackBrowser { align: center middle; }
    PackBrowser > Vertical { width: 90%; height: 80%; border: round $primary;
                             background: $surface; }
    PackBrowser Horizontal { height: 1fr; }
    PackBrowser OptionList { width: 1fr; height: 1fr; }
    PackBrowser #packs { max-width: 30; }
    PackBrowser #hint { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, packs: list[PackInfo], keymap: dict[str, str]) -> None:
        super().__init__()
        self.packs = packs
        self.keymap = keymap  # to name the keys as remapped
        self.loaded: Pack | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            with Horizontal():
                yield VimOptionList(
                    *(Option(info.name, id=str(info.path)) for info in self.packs), id="packs"
                )
                yield VimOptionList(id="prompts")
            yield Label(self._hint(), id="hint")

    def _hint(self) -> str:
        keys = {b.id: key_display(self.app, b, self.keymap) for b in self.BINDINGS
                if isinstance(b, Binding)}  # fmt: skip
        return (
            f"Enter: open pack / load prompt · {keys['packs.run_pack']}: run whole pack"
            f" · {keys['packs.close']}: close"
        )

    def on_mount(self) -> None:
        self.query_one("#packs").border_title = "packs"
        self.query_one("#prompts").border_title = "prompts"
        if not self.packs:
            self.notify("no packs found: add pack folders in the config", severity="warning")

    @on(OptionList.OptionHighlighted, "#packs")
    @on(OptionList.OptionSelected, "#packs")
    def _open(self, event: OptionList.OptionHighlighted | OptionList.OptionSelected) -> None:
        path = event.option.id  # every pack option has its path as id
        if path is None:
            return
        try:
            self.loaded = load_pack(path)
        except InputError as error:
            self.loaded = None
            self.notify(str(error), severity="error", timeout=10)
            return
        prompts = self.query_one("#prompts", OptionList)
        prompts.clear_options()
        prompts.add_options(
            Option(entry.prompt, id=str(number)) for number, entry in enumerate(self.loaded.prompts)
        )
        prompts.highlighted = 0 if self.loaded.prompts else None
        if isinstance(event, OptionList.OptionSelected):
            prompts.focus()

    @on(OptionList.OptionSelected, "#prompts")
    def _load_prompt(self, event: OptionList.OptionSelected) -> None:
        number = event.option.id  # every prompt option has its number as id
        if self.loaded is not None and number is not None:
            self.dismiss(PackChoice(self.loaded, int(number)))

    def action_run_pack(self) -> None:
        if self.loaded is not None:
            self.dismiss(PackChoice(self.loaded, None))
