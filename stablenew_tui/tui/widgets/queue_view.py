"""The queue of the current run: status of every job, and keys to steer it.

Drawn line by line (Textual's line API) rather than as a DataTable: a DataTable re-renders
every visible cell through Rich whenever any cell changes or it gains focus, which made each
switch to this tab cost ~5 ms while a batch streams. A line here is one styled segment.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import set_cell_size
from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from stablenew_tui.pipeline.jobs import Job

_STATUS_MARK = {"queued": "·", "running": "▶", "done": "✓", "failed": "✗", "cancelled": "–"}
HEADER = ("#", "status", "node", "prompt", "note")
FIXED_WIDTHS = (6, 12, 11)  # index, status, node; prompt and note share the rest 2:1


class QueueView(ScrollView, can_focus=True):
    """Rows are jobs, under a header that stays put; the owning screen refreshes them from
    the queue database while the tab is in view."""

    BINDINGS = [
        Binding("j,down", "cursor(1)", "Down", show=False),
        Binding("k,up", "cursor(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
        Binding("x", "screen.cancel_job", "Cancel job", id="queue.cancel_job"),
        Binding("r", "screen.requeue_failed", "Requeue failed", id="queue.requeue_failed"),
        Binding("f", "screen.move_to_front", "Run next", id="queue.move_to_front"),
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

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.job_ids: list[str] = []
        self.shown: list[tuple[str, ...]] = []  # the cells of each row, in order

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
        self.virtual_size = Size(0, len(jobs) + 1)  # + the header; never wider than the view
        if selected in self.job_ids:
            self.cursor = self.job_ids.index(selected)
        else:
            self.cursor = min(self.cursor, max(len(jobs) - 1, 0))
        self.refresh()

    # -- drawing -------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._strip(HEADER, width, "queue-view--header")
        row = self.scroll_offset.y + y - 1
        if row >= len(self.shown):
            return Strip.blank(width, self.rich_style)
        zebra = "queue-view--even" if row % 2 else ""
        return self._strip(
            self.shown[row], width, "queue-view--cursor" if row == self.cursor else zebra
        )

    def _strip(self, cells: tuple[str, ...], width: int, component: str) -> Strip:
        style = self.rich_style
        if component:
            style += self.get_component_rich_style(component)
        flexible = max(width - sum(FIXED_WIDTHS), 0)
        widths = (*FIXED_WIDTHS, flexible * 2 // 3, flexible - flexible * 2 // 3)
        text = "".join(
            set_cell_size(f" {cell}", size) for cell, size in zip(cells, widths, strict=True)
        )
        return Strip([Segment(set_cell_size(text, width), style)], width)

    def watch_cursor(self) -> None:
        """Keep the cursor row in sight, below the header."""
        rows_in_view = max(self.scrollable_content_region.height - 1, 1)
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + rows_in_view:
            self.scroll_to(y=self.cursor - rows_in_view + 1, animate=False)
        self.refresh()

    # -- keys and mouse ------------------------------------------------------------------

    def action_cursor(self, step: int) -> None:
        self.cursor = max(0, min(self.cursor + step, len(self.shown) - 1))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(self.scrollable_content_region.height - 1, 1))

    def action_cursor_to(self, row: int) -> None:
        self.cursor = max(0, row if row >= 0 else len(self.shown) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:  # the border or the header
            return
        row = self.scroll_offset.y + offset.y - 1
        if row < len(self.shown):
            self.cursor = row


def _cells(job: Job) -> tuple[str, ...]:
    return (
        str(job.index + 1),
        f"{_STATUS_MARK.get(job.status, '?')} {job.status}",
        job.node or "",
        job.spec.prompt[:200],
        (job.error or "")[:200],
    )
