"""The progress line draws the net effect of a batch of engine events."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Label, ProgressBar

from stablenew_tui.pipeline.events import (
    JobDone,
    JobFailed,
    RunFinished,
    RunStarted,
    StageProgress,
    StageStarted,
)
from stablenew_tui.tui.widgets.run_progress import RunProgress


class _Host(App):
    def compose(self) -> ComposeResult:
        yield RunProgress("^T")


def _done(index: int) -> JobDone:
    return JobDone(job_id=str(index), index=index, node="a", paths=[], prompt="p", seed=index)


async def test_a_batch_of_events_moves_the_bars_and_the_label_once_to_the_net_state():
    app = _Host()
    async with app.run_test(size=(100, 3)) as pilot:
        view = app.query_one(RunProgress)
        view.show([
            RunStarted(run_id="r", folder="f", total=10, remaining=8),
            StageStarted(job_id="2", index=2, stage="txt2img", node="a"), _done(2),
            StageStarted(job_id="3", index=3, stage="txt2img", node="a"),
            JobFailed(job_id="3", index=3, node="a", stage="txt2img", reason="x", will_retry=True),
            StageStarted(job_id="3", index=3, stage="txt2img", node="a"),
            StageProgress(job_id="3", index=3, stage="txt2img", node="a", step=5, steps=20,
                          fraction=0.25, eta_seconds=3.0),
        ])  # fmt: skip
        await pilot.pause()
        run_bar = app.query_one("#run-bar", ProgressBar)
        image_bar = app.query_one("#image-bar", ProgressBar)
        assert (run_bar.progress, run_bar.total) == (3, 10)  # 2 done before, 1 now; no retry
        assert (image_bar.progress, image_bar.total) == (5, 20)
        assert str(app.query_one("#image-label", Label).render()) == "#4 txt2img 5/20 ETA 3s"

        view.show([_done(3), JobFailed(job_id="4", index=4, node="a", stage="txt2img",
                   reason="x"), RunFinished(run_id="r", folder="f",
                   counts={"done": 4, "failed": 1})])  # fmt: skip
        await pilot.pause()
        assert run_bar.progress == 5
        assert str(app.query_one("#image-label", Label).render()) == "finished: 4 done, 1 failed"
