"""How `stablenew run` shows engine events: bars on a terminal, one line per event in a pipe
(tmux logs, files), NDJSON with `--json`."""

from __future__ import annotations

import json
import shutil
import sys
import time
from typing import TextIO

from stablenew_tui.pipeline.event_text import describe
from stablenew_tui.pipeline.events import (
    Event,
    Interrupted,
    JobDone,
    JobFailed,
    JobSkipped,
    RunEstimate,
    RunStarted,
    StageDone,
    StageProgress,
    VideoProgressed,
)


class JsonReporter:
    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out

    def show(self, event: Event) -> None:
        self.out.write(json.dumps(event.as_dict()) + "\n")
        self.out.flush()

    def note(self, message: str) -> None:
        self.show_raw({"event": "note", "message": message})

    def show_raw(self, data: dict) -> None:
        self.out.write(json.dumps(data) + "\n")
        self.out.flush()

    def close(self) -> None:
        pass


class PlainReporter:
    """One line per event; progress only at each quarter so logs stay readable."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out
        self.total = 0
        self.finished = 0
        self._quarters: dict[tuple[str, str], int] = {}
        self._estimate: tuple[float, float] | None = None  # (run seconds left, when said)

    def line(self, text: str) -> None:
        self.out.write(f"{time.strftime('%H:%M:%S')} {text}\n")
        self.out.flush()

    def note(self, message: str) -> None:
        self.line(message)

    def show(self, event: Event) -> None:
        text = self.describe(event)
        if text:
            self.line(text)

    def describe(self, event: Event) -> str | None:
        match event:
            case RunStarted():
                self.total = event.total
                self.finished = event.total - event.remaining
                self._estimate = None
            case RunEstimate():
                self._estimate = (event.seconds, time.monotonic())
            case StageProgress():
                return self._quarter(
                    (event.job_id, event.stage),
                    event.fraction,
                    f"[{event.node}] image {event.index + 1}: {event.stage} "
                    f"step {event.step}/{event.steps}{_eta(event.eta_seconds)}",
                )
            case VideoProgressed():
                return self._quarter((event.run_id, "video"), event.fraction, "video:")
            case JobDone():
                self.finished += 1
                eta = self.run_eta()
                return f"{describe(event)} ({self.finished}/{self.total}{eta and ','}{eta})"
            case JobFailed() if not event.will_retry:
                self.finished += 1
            case JobSkipped():
                self.finished += 1
        return describe(event)

    def run_eta(self) -> str:
        """` ETA m:ss` of the whole run, counted down since the engine estimated it."""
        if self._estimate is None:
            return ""
        seconds, said = self._estimate
        return _eta(max(seconds - (time.monotonic() - said), 0.0))

    def _quarter(self, key: tuple[str, str], fraction: float, text: str) -> str | None:
        """Progress only when it passes 25, 50 or 75 %: readable in a log file."""
        quarter = int(fraction * 4)
        if quarter <= self._quarters.get(key, 0) or quarter >= 4:
            return None
        self._quarters[key] = quarter
        return f"{text} {quarter * 25}%" if text.endswith(":") else text

    def close(self) -> None:
        pass


class TerminalReporter(PlainReporter):
    """Event lines scroll; two bars (whole run, current image) stay on the last line."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        super().__init__(out)
        self._image: StageProgress | None = None

    def line(self, text: str) -> None:
        self.out.write("\r\x1b[2K" + text + "\n")
        self._draw()

    def show(self, event: Event) -> None:
        if isinstance(event, StageProgress):
            self._image = event
            self._draw()
            return
        if isinstance(event, (StageDone, JobFailed, JobSkipped, Interrupted)):
            self._image = None
        super().show(event)

    def _draw(self) -> None:
        width = shutil.get_terminal_size((80, 24)).columns
        done, total = self.finished, max(self.total, 1)
        text = f"{_bar(done / total, 20)} {done}/{self.total}{self.run_eta()}"
        if self._image:
            image = self._image
            text += (
                f"  image {image.index + 1} {image.stage} {_bar(image.fraction, 12)} "
                f"{image.step}/{image.steps}{_eta(image.eta_seconds)}"
            )
        self.out.write("\r\x1b[2K" + text[: width - 1])
        self.out.flush()

    def close(self) -> None:
        self.out.write("\r\x1b[2K")
        self.out.flush()


def _bar(fraction: float, width: int) -> str:
    filled = int(max(0.0, min(1.0, fraction)) * width)
    return "[" + "█" * filled + "·" * (width - filled) + "]"


def _eta(seconds: float | None) -> str:
    if not seconds or seconds <= 0:
        return ""
    minutes, secs = divmod(int(seconds + 0.5), 60)
    return f" ETA {minutes}:{secs:02d}"


Reporter = JsonReporter | PlainReporter
