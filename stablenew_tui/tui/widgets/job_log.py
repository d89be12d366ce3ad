"""The live job log: every stage, node change and error, in plain words, one line where it can.

A node's state is logged when it changes for the user: not each reconnect attempt while it is
down, nor each BUSY/READY between images. A GPU out of memory is said in one line (the full
text stays in the manifest and the queue's note). Long paths wrap at their slashes.

Kept as plain strings and drawn line by line (Textual's line API). A RichLog keeps each line as
rendered strips with their caches, tens of thousands of objects over a long batch, and the
garbage collector scans them all in every full collection: pauses of 20 ms and more, about
once a second while images stream in.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections import deque
from typing import Any, ClassVar

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from stablenew_tui.pipeline.event_text import describe, is_problem
from stablenew_tui.pipeline.events import Event, JobFailed, NodeStatus
from stablenew_tui.webui.errors import is_out_of_memory

MAX_ENTRIES = 2_000
STAMP_WIDTH = len("00:00:00 ")
# Each entry is stored as one string whose first character says what it is.
_PLAIN, _PROBLEM = "n", "p"
# How a node's state reads in the log: answering (READY or BUSY), down, or connecting.
_NODE_STATE_SHOWN = {"READY": "READY", "BUSY": "READY", "DISCONNECTED": "DISCONNECTED"}
_ALLOCATION = re.compile(r"Tried to allocate ([\d.]+ [KMGT]i?B)", re.IGNORECASE)


class JobLog(ScrollView, can_focus=True):
    """Lines are added at once and drawn when the log is in view (`show_waiting`); the view
    follows the newest line unless the user has scrolled up."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"job-log--time", "job-log--problem"}
    DEFAULT_CSS = """
    JobLog {
        height: 1fr; border: round $panel-lighten-2; padding: 0 1;
        background: $surface; color: $foreground;
        overflow-x: hidden; scrollbar-gutter: stable;
        & > .job-log--time { color: $text-muted; }
        & > .job-log--problem { color: $text-error; text-style: bold; }
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = "job log"
        self.entries: deque[str] = deque(maxlen=MAX_ENTRIES)
        self._lines: list[str] = []  # the entries wrapped to `_wrapped_width`, kind first
        self._line_counts: deque[int] = deque()  # lines per entry, oldest first
        self._wrapped_width = 0
        self._waiting = 0  # entries not wrapped yet
        self._following = True  # the newest line is in view
        self._node_states: dict[str, str] = {}  # node → its state as last logged

    def show(self, event: Event) -> None:
        if isinstance(event, NodeStatus) and not self._node_changed(event):
            return
        if isinstance(event, JobFailed) and is_out_of_memory(event.reason):
            event = dataclasses.replace(event, reason=_out_of_memory(event.reason))
        text = describe(event)
        if text:
            self.note(text, problem=is_problem(event))

    def _node_changed(self, status: NodeStatus) -> bool:
        """Whether `status` changes the node's state as the log tells it. Connecting is news
        only before anything else was told of the node: later, the monitor is trying again
        after losing it, while the node is down or once the engine has already found it back
        (the engine and the monitor each report what they see)."""
        last = self._node_states.get(status.node)
        if status.state == "CONNECTING" and last is not None:
            return False
        shown = _NODE_STATE_SHOWN.get(status.state, status.state)
        self._node_states[status.node] = shown
        return shown != last

    def note(self, text: str, *, problem: bool = False) -> None:
        kind = _PROBLEM if problem else _PLAIN
        stamp = time.strftime("%H:%M:%S ", time.localtime())
        self.entries.append(kind + stamp + " ".join(text.split()))
        self._waiting = min(self._waiting + 1, MAX_ENTRIES)

    def show_waiting(self) -> None:
        """Draw the entries noted since the last call (all of them again after a change of
        width). Works while the log is hidden too, at the size it last had on screen."""
        width = self._text_width()
        if width <= STAMP_WIDTH:
            return  # never laid out yet: the first Resize brings it here again
        if width != self._wrapped_width:
            self._lines, self._line_counts, self._wrapped_width = [], deque(), width
            self._add_lines(list(self.entries), width)
        elif self._waiting:
            self._add_lines(list(self.entries)[-self._waiting :], width)
        else:
            return
        self._waiting = 0
        self.virtual_size = Size(0, len(self._lines))
        if self._following:  # in this frame already, not after it
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self.show_waiting()
        if self._following:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._following = new_value >= self.max_scroll_y

    def _text_width(self) -> int:
        """Cells for text: the size the log last had on screen, so a hidden log knows it."""
        return max(self.container_size.width - self.scrollbar_size_vertical, 0)

    def _add_lines(self, entries: list[str], width: int) -> None:
        """Wrap `entries` to `width` cells after the time stamp, then forget the lines of
        entries the log no longer holds. Continuation lines are indented under the text and
        marked with an upper-case kind."""
        for entry in entries:
            kind, stamp, text = entry[0], entry[1 : 1 + STAMP_WIDTH], entry[1 + STAMP_WIDTH :]
            chunks = _wrapped(text, width - STAMP_WIDTH)
            self._lines.append(kind + stamp + chunks[0])
            self._lines.extend(kind.upper() + " " * STAMP_WIDTH + chunk for chunk in chunks[1:])
            self._line_counts.append(len(chunks))
        excess = len(self._line_counts) - MAX_ENTRIES
        del self._lines[: sum(self._line_counts.popleft() for _ in range(excess))]

    def render_line(self, y: int) -> Strip:
        width = self._text_width()
        index = self.scroll_offset.y + y
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        line = self._lines[index]
        kind, stamp, text = line[0], line[1 : 1 + STAMP_WIDTH], line[1 + STAMP_WIDTH :]
        base = self.rich_style
        text_style = base
        if kind.lower() == _PROBLEM:
            text_style += self.get_component_rich_style("job-log--problem")
        segments = [
            Segment(stamp, base + self.get_component_rich_style("job-log--time")),
            Segment(text, text_style),
        ]
        return Strip(segments).adjust_cell_length(width, base)


def _out_of_memory(reason: str) -> str:
    """PyTorch's out-of-memory text (seven lines at 80 columns) as a few words: what ran out,
    and the allocation that failed."""
    allocation = _ALLOCATION.search(reason)
    return "out of GPU memory" + (f" (+{allocation.group(1)})" if allocation else "")


def _wrapped(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` cells, broken between words where it can be, and a
    word too long for a line (a path) after a slash where it can be."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if cell_len(candidate) <= width:
            line = candidate
            continue
        if cell_len(word) <= width:
            lines.append(line)
            line = word
            continue
        room = width - cell_len(line) - 1 if line else width  # what is left of this line
        first, *rest = _broken(word, width, room)
        if first:
            line = f"{line} {first}" if line else first
        if line:
            lines.append(line)
        lines.extend(rest[:-1])
        line = rest[-1] if rest else ""
    lines.append(line)
    return lines


def _broken(word: str, width: int, room: int) -> list[str]:
    """A word too long for a line in pieces: the first fits in `room` cells (it may be empty),
    the others in `width`. Pieces end after a slash where they can; a part of a path too long
    for a line is cut."""
    pieces: list[str] = []
    piece, limit = "", room
    for part in re.split(r"(?<=/)", word):
        if cell_len(piece + part) <= limit:
            piece += part
            continue
        pieces.append(piece)
        piece, limit = "", width
        chopped = chop_cells(part, width) if cell_len(part) > width else [part]
        pieces.extend(chopped[:-1])
        piece = chopped[-1]
    pieces.append(piece)
    return pieces
