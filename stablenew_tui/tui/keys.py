"""Key bindings as data: where each works, for the help screen, the keymap check, the key
hints and the command palette.

Every binding is a `Binding` with an id, so `[ui.keymap]` can move any key; `bindings_of`
refuses anything else. Cursor movement is marked `system`: listed in help, left out of the
palette, where it would mean nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.dom import DOMNode


@dataclass(frozen=True)
class KeySection:
    title: str  # where the keys work, as the help screen names it
    owner: type[DOMNode]  # the app, screen or widget class that declares them
    bindings: list[Binding]


def bindings_of(owner: type[DOMNode]) -> list[Binding]:
    """The bindings `owner` declares, each a `Binding` with an id."""
    found = []
    for binding in owner.BINDINGS:
        if not isinstance(binding, Binding) or not binding.id:
            raise TypeError(
                f"{owner.__name__}: {binding!r} needs to be a Binding with an id to be remapped"
            )
        found.append(binding)
    return found


def section(title: str, owner: type[DOMNode]) -> KeySection:
    return KeySection(title, owner, bindings_of(owner))


WRITTEN = {"⏎": "Enter", "⌫": "Backspace", "pgdn": "PgDn", "pgup": "PgUp"}


def readable_key(shown: str) -> str:
    """A key as Textual writes it (`^r`, `f1`, `esc`, `shift+tab`) as people write it
    (`^R`, `F1`, `Esc`, `Shift+Tab`)."""
    parts = []
    for part in shown.split("+"):
        caret, name = ("^", part[1:]) if part.startswith("^") and len(part) > 1 else ("", part)
        if len(name) > 1 and name[0] in "fF" and name[1:].isdigit():
            name = name.upper()
        elif name in WRITTEN:
            name = WRITTEN[name]
        elif len(name) == 1:
            name = name.upper() if caret else name
        else:
            name = name[:1].upper() + name[1:]
        parts.append(caret + name)
    return "+".join(parts)


def palette_bindings(key_section: KeySection) -> list[Binding]:
    """The bindings the command palette offers: every action but cursor movement."""
    return [binding for binding in key_section.bindings if not binding.system]
