"""The live job log: every stage, node change and error, in plain words."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import RichLog

from stablenew_tui.pipeline.event_text import describe, is_problem
from stablenew_tui.pipeline.events import Event

MAX_LINES = 2_000


class JobLog(RichLog):
    DEFAULT_CSS = "JobLog { height: 1fr; border: round $panel-lighten-2; padding: 0 1; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=True, markup=False, min_width=20, **kwargs)
        self.border_title = "job log"

    def show(self, event: Event) -> None:
        text = describe(event)
        if text:
            self.note(text, problem=is_problem(event))

    def note(self, text: str, *, problem: bool = False) -> None:
        line = Text(time.strftime("%H:%M:%S "), style="dim")
        line.append(text, style="bold red" if problem else "")
        self.write(line)
