"""The queue of the current run: status of every job, and keys to steer it."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable

from stablenew_tui.pipeline.jobs import Job

_STATUS_MARK = {"queued": "·", "running": "▶", "done": "✓", "failed": "✗", "cancelled": "–"}


class QueueView(DataTable):
    """Rows are jobs; the owning screen refreshes them from the queue database."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("x", "screen.cancel_job", "Cancel job", id="queue.cancel_job"),
        Binding("r", "screen.requeue_failed", "Requeue failed", id="queue.requeue_failed"),
        Binding("f", "screen.move_to_front", "Run next", id="queue.move_to_front"),
    ]
    DEFAULT_CSS = "QueueView { height: 1fr; border: round $panel-lighten-2; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown: dict[str, tuple[str, ...]] = {}  # job id → cells on screen, in order

    def on_mount(self) -> None:
        self.border_title = "queue"
        self.cursor_type = "row"
        self.zebra_stripes = True
        for key, width in zip(_COLUMNS, (5, 11, 10, None, None), strict=True):
            self.add_column("#" if key == "index" else key, key=key, width=width)

    def show_jobs(self, jobs: list[Job]) -> None:
        """Show these jobs. Twice a second while a batch streams: rows are rebuilt only when the
        set of jobs changes; otherwise only the cells that changed are redrawn."""
        jobs = sorted(jobs, key=lambda job: job.index)
        if [job.id for job in jobs] != list(self._shown):
            self._rebuild(jobs)
            return
        for job in jobs:
            cells = _cells(job)
            if cells != self._shown[job.id]:
                for key, old, value in zip(_COLUMNS, self._shown[job.id], cells, strict=True):
                    if old != value:
                        self.update_cell(job.id, key, value)
                self._shown[job.id] = cells

    def _rebuild(self, jobs: list[Job]) -> None:
        selected = self.selected_job_id
        self.clear()
        self._shown = {}
        for job in jobs:
            cells = _cells(job)
            self.add_row(*cells, key=job.id)
            self._shown[job.id] = cells
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected))

    @property
    def selected_job_id(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value


_COLUMNS = ("index", "status", "node", "prompt", "note")


def _cells(job: Job) -> tuple[str, ...]:
    return (
        str(job.index + 1),
        f"{_STATUS_MARK.get(job.status, '?')} {job.status}",
        job.node or "",
        job.spec.prompt[:120],
        (job.error or "")[:120],
    )
