"""The queue of the current run: status of every job, and keys to steer it. Drawn line by
line (see `row_view`); a line here is one styled segment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.cells import set_cell_size
from textual import work
from textual.binding import Binding
from textual.geometry import Size
from textual.strip import Strip

from stablenew_tui.pipeline.jobs import Job
from stablenew_tui.tui.widgets.row_view import RowView

_STATUS_MARK = {"queued": "·", "running": "▶", "done": "✓", "failed": "✗", "cancelled": "–"}
FIXED_WIDTHS = (6, 12)  # index, status; then the node names, and prompt and note 2:1
NODE_WIDTH_LIMIT = 24  # a node named by a long URL is cut, not the prompt


EMPTY_HINT = "no run yet: Ctrl+R queues the prompt, Ctrl+G a pack"


class QueueView(RowView):
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
    HEADER = ("#", "status", "node", "prompt", "note")
    COMPONENT_CLASSES: ClassVar[set[str]] = {"queue-view--even"}
    DEFAULT_CSS = """
    QueueView {
        & > .queue-view--even { background: $surface-lighten-1 50%; }
        & > .row-view--cursor { text-style: $block-cursor-blurred-text-style; }
        &:focus > .row-view--cursor { text-style: $block-cursor-text-style; }
    }
    """

    def __init__(self, load_jobs: Callable[[], list[Job]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.load_jobs = load_jobs
        self.job_ids: list[str] = []
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

    def draw_beyond(self, y: int, width: int) -> Strip:
        if not self.shown and y == 1:
            return self.line(f" {EMPTY_HINT}", width, "")
        return super().draw_beyond(y, width)

    def row_component(self, row: int) -> str:
        return super().row_component(row) or ("queue-view--even" if row % 2 else "")

    def draw_row(self, cells: tuple[str, ...], width: int, component: str) -> Strip:
        fixed = (*FIXED_WIDTHS, self._node_width)
        flexible = max(width - sum(fixed), 0)
        widths = (*fixed, flexible * 2 // 3, flexible - flexible * 2 // 3)
        text = "".join(
            set_cell_size(f" {cell}", size) for cell, size in zip(cells, widths, strict=True)
        )
        return self.line(text, width, component)

    # -- keys ----------------------------------------------------------------------------

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(self.container_size.height - 1, 1))

    def action_cursor_to(self, row: int) -> None:
        self.cursor = max(0, row if row >= 0 else len(self.shown) - 1)


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
