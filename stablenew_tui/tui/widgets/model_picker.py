"""The checkpoint choice: one model from the dropdown, and any more ticked in the list under it.

Several models make every image on each (the run fans out, grouped by model); the value is
what `txt2img.model` holds: None (as loaded), one name, or a list of several.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.strip import Strip
from textual.widgets import Select, SelectionList

Options = list[tuple[str, str]]  # (label, name)


class ModelPicker(Vertical):
    DEFAULT_CSS = """
    ModelPicker { height: auto; width: 1fr; }
    ModelPicker SelectionList { height: 3; border: none; padding: 0; background: $boost; }
    """

    def __init__(self, options: Options, value: Any, *, select_id: str, id: str) -> None:
        super().__init__(id=id)
        self._options = options
        first, self._more = _split(value)
        self._first = Select.NULL if first is None else first
        self._select_id = select_id

    def compose(self) -> ComposeResult:
        yield Select(
            self._options, value=self._first, compact=True, prompt="as loaded",
            id=self._select_id,
        )  # fmt: skip
        more = TickList(*self._choices(self._options, self._more), compact=True)
        more.tooltip = "also make every image on these (space ticks)"
        yield more

    @property
    def first(self) -> str | None:
        """The model in the dropdown, None when it keeps what is loaded."""
        first = self.query_one(Select).value
        return None if first == Select.NULL else str(first)

    @property
    def value(self) -> str | list[str] | None:
        names = [] if self.first is None else [self.first]
        names += [name for name in self.query_one(SelectionList).selected if name not in names]
        return names if len(names) > 1 else (names[0] if names else None)

    def set_options(self, options: Options) -> None:
        """Refill both lists; what was chosen stays chosen."""
        select, more = self.query_one(Select), self.query_one(SelectionList)
        self._show(options, select.value, list(more.selected))

    def choose(self, options: Options, value: Any) -> None:
        """Refill both lists and choose `value` (as `txt2img.model` holds it) instead."""
        first, more = _split(value)
        self._show(options, Select.NULL if first is None else first, more)

    def _show(self, options: Options, first: Any, ticked: list[str]) -> None:
        select, more = self.query_one(Select), self.query_one(SelectionList)
        select.set_options(options)
        if first != Select.NULL:
            select.value = first
        more.clear_options()
        more.add_options(self._choices(options, ticked))

    @staticmethod
    def _choices(options: Options, ticked: list[str]) -> list[tuple[str, str, bool]]:
        names = [name for _, name in options]
        listed = options + [(name, name) for name in ticked if name not in names]
        return [(label, name, name in ticked) for label, name in listed]


def tick_mark(ticked: bool) -> str:
    """What a tick box holds: it reads the same without colour."""
    return "✓" if ticked else " "


class TickList(SelectionList[str]):
    """A selection list whose boxes read without colour, `▐✓▌` or `▐ ▌`: Textual's draws an
    `X` in every box and tells them apart by colour alone."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        index = self.scroll_offset.y + y
        segments = list(line)
        if index >= self.option_count or len(segments) < 2:  # below the last option
            return line
        _, style, control = segments[1]  # the box, after its left edge
        ticked = self.get_option_at_index(index).value in self.selected
        segments[1] = Segment(tick_mark(ticked), style, control)
        return Strip(segments, line.cell_length)


def _split(value: Any) -> tuple[str | None, list[str]]:
    if isinstance(value, list):
        return (value[0], list(value[1:])) if value else (None, [])
    return (value or None), []
