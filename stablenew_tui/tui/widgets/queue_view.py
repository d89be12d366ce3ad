"""The queue of the current run: status of every job, and keys to steer it.

Drawn line by line (Textual's line API) rather than as a DataTable: a DataTable re-renders
every visible cell through Rich whenever any cell changes or it gains focus, which made each
switch to this tab cost ~5 ms while a batch streams. A line here is one styled segment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.cells import set_cell_size
from rich.segment import Segment
from textual import events, work
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from stablenew_tui.pipeline.jobs import Job

_STATUS_MARK = {"queued": "·", "running": "▶", "done": "✓", "failed": "✗", "cancelled": "–"}
HEADER = ("#", "status", "node", "prompt", "note")
FIXED_WIDTHS = (6, 12)  # index, status; then the node names, and prompt and note 2:1
NODE_WIDTH_LIMIT = 24  # a node named by a long URL is cut, not the prompt


EMPTY_HINT = "no run yet: Ctrl+R queues the prompt, Ctrl+G a pack"


class QueueView(ScrollView, can_focus=True):
    """Rows are jobs, under a header that stays put. `mark_stale` says the queue changed;
    `read_if_stale` reads it again (through `load_jobs`, in a thread: a few ms of SQLite and
    parsing per read, several times a second while a batch streams) and `show_waiting`
    draws what was read, while the tab is in view."""

    BINDINGS = [
        Binding("j,down", "cursor(1)", "Down", show=False, id="queue.down", system=True),
        Binding("k,up", "cursor(-1)", "Up", show=False, id="queue.up", system=True),
        Binding("pagedown", "page(1)", "Page down", show=False, id="queue.page_down", system=True),
        Binding("pageup", "page(-1)", "Page up", show=False, id="queue.page_up", system=True),
        Binding("home", "cursor_to(0)", "First", show=False, id="queue.first", system=True),
        Binding("end", "cursor_to(-1)", "Last", show=False, id="queue.last", system=True),
        Binding("x", "screen.cancel_job", "Cancel job", id="queue.cancel_job"),
        Binding("r", "screen.requeue_failed", "Requeue failed", id="queue.requeue_failed"),
        Binding("f", "screen.run_next", "Run next", id="queue.move_to_front"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-view--header", "queue-view--cursor", "queue-view--even",
    }  # fmt: skip
    DEFAULT_CSS = """
    QueueView {
        height: 1fr; overflow-x: hidden; border: round $panel-lighten-2;
        background: $surface; color: $foreground;
        & > .queue-view--header { text-style: bold; background: $panel; }
        & > .queue-view--even { background: $surface-lighten-1 50%; }
        & > .queue-view--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .queue-view--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    cursor = reactive(0, init=False)

    def __init__(self, load_jobs: Callable[[], list[Job]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.load_jobs = load_jobs
        self.job_ids: list[str] = []
        self.shown: list[tuple[str, ...]] = []  # the cells of each row, in order
        self._node_width = len(" node ")
        self._stale = True
        self._reading = False
        self._read: list[Job] | None = None  # read and not drawn yet

    def mark_stale(self) -> None:
        self._stale = True

    def read_if_stale(self) -> None:
        """Read the queue again, in a thread, when it changed since the last read; it is
        drawn at once when the view is on screen, else when it next comes into view."""
        if self._stale and not self._reading:
            self._stale, self._reading = False, True
            self._read_jobs()

    @property
    def is_reading(self) -> bool:
        return self._reading

    @work(thread=True, exit_on_error=False, group="queue-read")
    def _read_jobs(self) -> None:
        jobs = None  # an error is reported by the worker; the next change reads again
        try:
            jobs = self.load_jobs()
        finally:
            self.app.call_from_thread(self._take_jobs, jobs)

    def _take_jobs(self, jobs: list[Job] | None) -> None:
        self._reading = False
        if jobs is None:
            return
        self._read = jobs
        if self.is_on_screen:
            self.show_waiting()
        self.read_if_stale()  # changed again while it was read

    def show_waiting(self) -> None:
        """Draw the jobs read since the last call."""
        if self._read is not None:
            jobs, self._read = self._read, None
            self.show_jobs(jobs)

    def on_mount(self) -> None:
        self.border_title = "queue"

    @property
    def selected_job_id(self) -> str | None:
        return self.job_ids[self.cursor] if self.job_ids else None

    def show_jobs(self, jobs: list[Job]) -> None:
        """Show these jobs, in queue order, with the cursor kept on the job it was on."""
        selected = self.selected_job_id
        jobs = sorted(jobs, key=lambda job: job.index)
        self.job_ids = [job.id for job in jobs]
        self.shown = [_cells(job) for job in jobs]
        longest = max((len(job.node or "") for job in jobs), default=0)
        self._node_width = min(max(longest, len("node")) + 2, NODE_WIDTH_LIMIT)
        self.virtual_size = Size(0, len(jobs) + 1)  # + the header; never wider than the view
        if selected in self.job_ids:
            self.cursor = self.job_ids.index(selected)
        else:  # another run: start from its top
            self.cursor = 0
            self.scroll_to(y=0, animate=False, immediate=True, force=True)
        self.refresh()

    # -- drawing -------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._strip(HEADER, width, "queue-view--header")
        row = self.scroll_offset.y + y - 1
        if not self.shown and y == 1:
            return self._line(f" {EMPTY_HINT}", width, "")
        if row >= len(self.shown):
            return Strip.blank(width, self.rich_style)
        zebra = "queue-view--even" if row % 2 else ""
        return self._strip(
            self.shown[row], width, "queue-view--cursor" if row == self.cursor else zebra
        )

    def _strip(self, cells: tuple[str, ...], width: int, component: str) -> Strip:
        fixed = (*FIXED_WIDTHS, self._node_width)
        flexible = max(width - sum(fixed), 0)
        widths = (*fixed, flexible * 2 // 3, flexible - flexible * 2 // 3)
        text = "".join(
            set_cell_size(f" {cell}", size) for cell, size in zip(cells, widths, strict=True)
        )
        return self._line(text, width, component)

    def _line(self, text: str, width: int, component: str) -> Strip:
        style = self.rich_style
        if component:
            style += self.get_component_rich_style(component)
        return Strip([Segment(set_cell_size(text, width), style)], width)

    def watch_cursor(self) -> None:
        row_into_view(self, self.cursor)
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        row_into_view(self, self.cursor)

    # -- keys and mouse ------------------------------------------------------------------

    def action_cursor(self, step: int) -> None:
        self.cursor = max(0, min(self.cursor + step, len(self.shown) - 1))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(self.container_size.height - 1, 1))

    def action_cursor_to(self, row: int) -> None:
        self.cursor = max(0, row if row >= 0 else len(self.shown) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:  # the border or the header
            return
        row = self.scroll_offset.y + offset.y - 1
        if row < len(self.shown):
            self.cursor = row


def row_into_view(view: ScrollView, row: int) -> None:
    """Scroll a view whose first line is a header so `row` is in sight below it, at the size
    the view last had on screen (a hidden view has no region)."""
    rows_in_view = max(view.container_size.height - 1, 1)
    top = view.scroll_offset.y
    # `force`: right after new rows arrive Textual has not yet allowed scrolling.
    if row < top:
        view.scroll_to(y=row, animate=False, force=True)
    elif row >= top + rows_in_view:
        view.scroll_to(y=row - rows_in_view + 1, animate=False, force=True)


def _cells(job: Job) -> tuple[str, ...]:
    return (
        str(job.index + 1),
        f"{_STATUS_MARK.get(job.status, '?')} {job.status}",
        job.node or "",
        _one_line(job.spec.prompt),
        _one_line(job.error or ""),
    )


def _one_line(text: str) -> str:
    """Newlines and tabs would break the terminal's lines: every run of white space becomes
    one space."""
    return " ".join(text[:400].split())
