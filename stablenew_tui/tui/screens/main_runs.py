"""The main screen's keys that steer runs: pause, skip, interrupt, cancel, the queue's keys and
resuming an unfinished run, with what holds images up shown in the progress line. What they do
lives in the services (`RunControl`); this maps keys to it and says what happened."""

from __future__ import annotations

from textual.screen import Screen

from stablenew_tui.pipeline.jobs import Run
from stablenew_tui.tui.screens.resume import UnfinishedRuns
from stablenew_tui.tui.services import TuiServices
from stablenew_tui.tui.widgets.queue_view import QueueView
from stablenew_tui.tui.widgets.run_progress import RunProgress


class RunWiring(Screen):
    """A part of `MainScreen`, which sets these:"""

    services: TuiServices
    unfinished: UnfinishedRuns
    _shown_run: Run | None  # the run the queue view belongs to

    def _show_holds(self) -> None:
        """What keeps images from being made, in the progress line for as long as it lasts,
        and the images left; their ETA only while nothing holds them up."""
        control, progress = self.services.control, self.query_one(RunProgress)
        holds = control.holds()
        progress.show_holds(holds, control.waiting_runs)
        progress.show_run_status(self.services.run_status.summary(with_eta=not holds))

    def action_toggle_pause(self) -> None:
        if self.services.control.toggle_pause():
            self.notify("paused: the image being made finishes, then nothing starts")
        else:
            self.notify("resumed")
        self._show_holds()

    async def action_skip(self) -> None:
        await self.services.control.skip()

    async def action_interrupt(self) -> None:
        if self.services.control.running is None:
            return
        await self.services.control.interrupt()
        self._show_holds()
        self.notify(
            "interrupted: the image being made goes back to the queue and the run stops; "
            f"{self.unfinished.key()} resumes it", timeout=8, markup=False,
        )  # fmt: skip

    async def action_cancel_all(self) -> None:
        waiting = self.services.control.waiting_runs
        cancelled = await self.services.control.cancel_all()
        dropped = f" and {waiting} run(s) waiting for a node" if waiting else ""
        self.notify(f"cancelled {cancelled} queued image(s){dropped}")
        self._show_holds()

    def action_cancel_job(self) -> None:
        job_id = self.query_one(QueueView).selected_job_id
        if job_id and self._shown_run:
            self.services.control.cancel_job(self._shown_run.id, job_id)
            self._queue_changed()

    def action_requeue_failed(self) -> None:
        if self._shown_run is None:
            return
        count = self.services.control.requeue_failed(self._shown_run.id)
        self.notify(f"{count} failed image(s) queued again")
        self._queue_changed()

    def action_run_next(self) -> None:
        job_id = self.query_one(QueueView).selected_job_id
        if job_id:
            self.services.control.run_next(job_id)
            self._queue_changed()

    def action_choose_run_to_resume(self) -> None:
        self.unfinished.choose()

    def _queue_changed(self) -> None:
        """A key in the queue view changed the queue: read it now, not at the next refresh."""
        view = self.query_one(QueueView)
        view.mark_stale()
        view.read_if_stale()
