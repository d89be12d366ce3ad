"""The bottom line of key hints: the main keys, plus those of the tab in view.

Textual's Footer rebuilds its key widgets on every focus change and, in Textual 8.2, never
frees the old ones (Textualize/textual#6666), so each tab switch leaves garbage that slows later
collections. This line is one Static, redrawn only when the tab changes.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static


class KeyHints(Static):
    DEFAULT_CSS = """
    KeyHints { dock: bottom; height: 1; background: $panel; padding: 0 1; }
    KeyHints > .key-hints--key { color: $accent; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-hints--key"}

    def show_bindings(self, bindings: list[Binding], keymap: dict[str, str]) -> None:
        """Show `bindings` (those meant to be shown), with keys as remapped by `keymap`."""
        key_style = self.get_component_rich_style("key-hints--key")
        line = Text(no_wrap=True, overflow="ellipsis")
        for binding in bindings:
            if not binding.show or not binding.description:
                continue
            keys = keymap.get(binding.id or "", binding.key)
            shown = binding.key_display or self.app.get_key_display(
                Binding(keys.split(",")[0], binding.action)
            )
            line.append(f"{shown} ", style=key_style)
            line.append(f"{binding.description}  ")
        self.update(line)
