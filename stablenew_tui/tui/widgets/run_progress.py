"""The progress line: what holds the run up (PAUSED, WAITING FOR NODE, ALL NODES DRAINED,
STOPPING) for as long as it does, and two bars: the whole run (images left, its ETA) and the
image being made (steps, ETA)."""

from __future__ import annotations

from typing import Any

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
from stablenew_tui.services.control import Hold


class RunProgress(Horizontal):
    """Bars always have a total: an indeterminate bar animates forever, which costs
    bandwidth over SSH for nothing."""

    DEFAULT_CSS = """
    RunProgress { height: 1; padding: 0 1; }
    RunProgress Label { width: auto; padding-right: 1; }
    RunProgress #holds { display: none; padding: 0 1; margin-right: 1; text-style: bold;
                         background: $warning; color: $text-warning; }
    /* The last thing on the line: no padding after it, and a text too long for 80 columns
       loses its end to an ellipsis rather than wrapping out of sight. */
    RunProgress #image-label { width: 1fr; padding-right: 0; text-wrap: nowrap;
                               text-overflow: ellipsis; }
    RunProgress ProgressBar { width: auto; padding-right: 1; }
    RunProgress Bar { width: 16; }
    RunProgress PercentageStatus { width: 5; }
    """

    def __init__(self, resume_key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resume_key = resume_key  # named when a run stops with images left
        self._run_done = 0
        self._run_total = 0
        self._holds = ""
        self._running = False  # a run has started and not finished: the bars are its
        self._next_images: int | None = None  # the size of the run asked for next, if known

    def compose(self) -> ComposeResult:
        yield Label("", id="holds")
        yield Label("run", id="run-label")
        yield ProgressBar(total=1, show_eta=False, id="run-bar")
        yield Label("image", id="image-caption")
        yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="image-bar")
        yield Label("idle", id="image-label")

    def show(self, events: list[Event]) -> None:
        """Draw the net effect of `events`, in order: each bar and the label change at most
        once, however many images a batch of events covers."""
        done, total = self._run_done, self._run_total
        image: tuple[float, float] | None = None  # (total, progress) of the image bar
        label: str | None = None
        for event in events:
            match event:
                case RunStarted():
                    done, total = event.total - event.remaining, event.total
                    label = f"{event.remaining} to make"
                    self._running, self._next_images = True, None
                case StageStarted():
                    image, label = (1, 0), f"#{event.index + 1} {event.stage} on {event.node}"
                case StageProgress():
                    image = (event.steps, event.step)
                    eta = f" ETA {event.eta_seconds:.0f}s" if event.eta_seconds else ""
                    label = f"#{event.index + 1} {event.stage} {event.step}/{event.steps}{eta}"
                case JobDone() | JobSkipped():
                    done, image = done + 1, (1, 1)
                case JobFailed() if not event.will_retry:
                    done += 1
                case VideoStarted():
                    image, label = (100, 0), f"video: joining {event.images} images"
                case VideoProgressed():
                    image = (100, event.fraction * 100)
                case VideoDone() | VideoFailed():
                    image = (100, 100)
                case RunFinished():
                    self._running = False
                    counts = ", ".join(
                        f"{n} {status}" for status, n in sorted(event.counts.items())
                    )
                    label = f"finished: {counts}"
                    left = event.counts.get("queued", 0) + event.counts.get("running", 0)
                    if left:  # the run bar shows what was done; this fits 80 columns
                        label = f"stopped: {left} left · {self.resume_key} resumes"
        self._draw(done, total, image, label)

    def _draw(
        self, done: int, total: int, image: tuple[float, float] | None, label: str | None
    ) -> None:
        if (done, total) != (self._run_done, self._run_total):
            self._run_done, self._run_total = done, total
            self.query_one("#run-bar", ProgressBar).update(total=max(total, 1), progress=done)
        if image is not None:
            self.query_one("#image-bar", ProgressBar).update(total=image[0], progress=image[1])
        if label is not None:
            # The label's width is fixed, so its new text needs no layout.
            self.query_one("#image-label", Label).update(label, layout=False)

    def expect_run(self, images: int | None) -> None:
        """A run was asked for and is lined up to start next with `images` to make (None:
        not known before it is planned, which needs a node); shown while it waits."""
        if not self._running:
            self._next_images = images

    def show_run_status(self, status: str) -> None:
        """`17 left · ETA 2m05s` before the run bar (`run` with no run). During a run the
        label only grows (shorter text is padded), so the line is laid out again a few times
        per run rather than whenever the ETA loses a digit."""
        label = self.query_one("#run-label", Label)
        shown = str(label.content)
        text = status.ljust(len(shown)) if status else "run"
        if text != shown:
            label.update(text, layout=len(text) != len(shown))

    def show_holds(self, holds: list[Hold], waiting_runs: int) -> None:
        """Show what holds the run up (nothing: the label goes), redrawn only on a change."""
        words = [hold.value for hold in holds]
        if Hold.WAITING in holds and waiting_runs:
            words.append(f"{waiting_runs} run(s) to start")
        text = " · ".join(words)
        if Hold.WAITING in holds and not self._running:
            self._show_next_run()
        if text == self._holds:
            return
        self._holds = text
        label = self.query_one("#holds", Label)
        label.update(text)
        label.display = bool(text)

    def _show_next_run(self) -> None:
        """While the next run waits for a node, the bars are its, at zero, not the last
        run's: `next run: 0 of 20`."""
        images = self._next_images
        label = f"next run: 0 of {images}" if images else "next run: planned once a node answers"
        if str(self.query_one("#image-label", Label).content) != label:
            self._draw(0, images or 0, (1, 0), label)
