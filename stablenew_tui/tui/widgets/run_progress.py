"""Two bars at the bottom: the image being made (steps, ETA) and the whole run."""

from __future__ import annotations

from functools import partial

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from stablenew_tui.pipeline.events import (
    Event,
    JobDone,
    JobFailed,
    JobSkipped,
    RunFinished,
    RunStarted,
    StageProgress,
    StageStarted,
    VideoDone,
    VideoFailed,
    VideoProgressed,
    VideoStarted,
)


class RunProgress(Horizontal):
    """Bars always have a total: an indeterminate bar animates forever, which costs
    bandwidth over SSH for nothing."""

    DEFAULT_CSS = """
    RunProgress { height: 1; padding: 0 1; }
    RunProgress Label { width: auto; padding-right: 1; }
    RunProgress #image-label { width: 1fr; }
    RunProgress ProgressBar { width: auto; padding-right: 1; }
    RunProgress Bar { width: 16; }
    RunProgress PercentageStatus { width: 5; }
    """

    def compose(self) -> ComposeResult:
        yield Label("run", id="run-label")
        yield ProgressBar(total=1, show_eta=False, id="run-bar")
        yield Label("image", id="image-caption")
        yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="image-bar")
        yield Label("idle", id="image-label")

    def show(self, event: Event) -> None:
        run_bar = self.query_one("#run-bar", ProgressBar)
        image_bar = self.query_one("#image-bar", ProgressBar)
        label = self.query_one("#image-label", Label)
        say = partial(label.update, layout=False)  # its width is fixed: no layout per event
        match event:
            case RunStarted():
                run_bar.update(total=event.total, progress=event.total - event.remaining)
                say(f"{event.remaining} to make")
            case StageStarted():
                image_bar.update(total=1, progress=0)
                say(f"#{event.index + 1} {event.stage} on {event.node}")
            case StageProgress():
                image_bar.update(total=event.steps, progress=event.step)
                eta = f" ETA {event.eta_seconds:.0f}s" if event.eta_seconds else ""
                say(f"#{event.index + 1} {event.stage} {event.step}/{event.steps}{eta}")
            case JobDone() | JobSkipped():
                run_bar.advance(1)
                image_bar.update(total=1, progress=1)
            case JobFailed() if not event.will_retry:
                run_bar.advance(1)
            case VideoStarted():
                image_bar.update(total=100, progress=0)
                say(f"video: joining {event.images} images")
            case VideoProgressed():
                image_bar.update(total=100, progress=event.fraction * 100)
            case VideoDone() | VideoFailed():
                image_bar.update(total=100, progress=100)
            case RunFinished():
                counts = ", ".join(f"{n} {status}" for status, n in sorted(event.counts.items()))
                say(f"finished: {counts}")
