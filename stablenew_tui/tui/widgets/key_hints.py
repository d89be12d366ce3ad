"""The bottom line of key hints: the main keys, plus those of the tab in view.

Textual's Footer rebuilds its key widgets on every focus change and, in Textual 8.2, never
frees the old ones (Textualize/textual#6666), so each tab switch leaves garbage that slows later
collections. This line is one widget, redrawn only when the tab or the theme changes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.widget import Widget


class KeyHints(Widget):
    DEFAULT_CSS = """
    KeyHints { dock: bottom; height: 1; background: $panel; padding: 0 1; }
    KeyHints > .key-hints--key { color: $accent; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-hints--key"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hints: list[tuple[str, str]] = []  # (key as shown, description)

    def show_bindings(self, bindings: list[Binding], keymap: dict[str, str]) -> None:
        """Show `bindings` (those meant to be shown), with keys as remapped by `keymap`."""
        self._hints = [
            (key_display(self.app, binding, keymap), binding.description)
            for binding in bindings
            if binding.show and binding.description
        ]
        self.refresh()  # one line of fixed size: no layout needed

    def render(self) -> Text:
        """Built at each render, so a new theme's colours apply at once."""
        key_style = self.get_component_rich_style("key-hints--key")
        line = Text(no_wrap=True, overflow="ellipsis")
        for key, description in self._hints:
            line.append(f"{key} ", style=key_style)
            line.append(f"{description}  ")
        return line


def key_display(app: App, binding: Binding, keymap: dict[str, str]) -> str:
    """How the first key of `binding`, as remapped by `keymap`, is written on screen."""
    keys = keymap.get(binding.id or "", binding.key)
    return binding.key_display or app.get_key_display(Binding(keys.split(",")[0], binding.action))
