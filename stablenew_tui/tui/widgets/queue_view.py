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

    def on_mount(self) -> None:
        self.border_title = "queue"
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_column("#", key="index", width=5)
        self.add_column("status", key="status", width=11)
        self.add_column("node", key="node", width=10)
        self.add_column("prompt", key="prompt")
        self.add_column("note", key="note")

    def show_jobs(self, jobs: list[Job]) -> None:
        selected = self.selected_job_id
        self.clear()
        for job in sorted(jobs, key=lambda job: job.index):
            self.add_row(
                str(job.index + 1),
                f"{_STATUS_MARK.get(job.status, '?')} {job.status}",
                job.node or "",
                job.spec.prompt[:120],
                (job.error or "")[:120],
                key=job.id,
            )
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected))

    @property
    def selected_job_id(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
