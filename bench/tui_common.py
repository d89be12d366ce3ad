"""What the TUI benchmarks share: targets, the warm start, a minimal tabs app as the
framework floor, and a tmux server of their own."""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from stablenew_tui.pipeline.lastrun import LAST_RUN_NAME, save_last_run
from stablenew_tui.pipeline.settings import PipelineSettings

PROMPT = "a lighthouse on a cliff at dusk, oil painting"
BATCH = 200
TARGET_READY_S = 1.5
TARGET_P95_MS = 50.0
POLL_S = 0.02
GIVE_UP_S = 30.0
# Text on screen only while that tab shows, in our app and in the minimal tabs app.
TAB_MARKERS = {"f4": "job log", "f2": "next prompt"}
TAB_IDS = {"f4": "queue", "f2": "prompt"}
MINIMAL_TABS_APP = """
from textual.app import App
from textual.binding import Binding
from textual.widgets import DataTable, Footer, RichLog, Static, TabbedContent, TabPane, TextArea


class MinimalTabs(App):
    CSS = "DataTable, RichLog { height: 1fr; }"
    BINDINGS = [
        Binding("f2", "show('prompt')", "Prompt"),
        Binding("f4", "show('queue')", "Queue"),
        *(Binding(f"ctrl+{key}", "bell", key) for key in "gor"),
    ]

    def compose(self):
        with TabbedContent(id="tabs"):
            with TabPane("Prompt", id="prompt"):
                yield TextArea("a lighthouse", id="template")
                yield Static("next prompt")
            with TabPane("Queue", id="queue"):
                yield DataTable()
                yield Static("job log")
                yield RichLog()
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("#", "status", "prompt")
        for index in range(200):
            table.add_row(str(index + 1), "done", "a lighthouse on a cliff at dusk")
        log = self.query_one(RichLog)
        for index in range(600):
            log.write(f"job {index + 1} done in 0.02 s")

    def action_show(self, tab):
        tabs = self.query_one(TabbedContent)
        tabs.active = tab
        focusable = [widget for widget in tabs.get_pane(tab).query("*") if widget.can_focus]
        if focusable:
            focusable[0].focus()


if __name__ == "__main__":
    MinimalTabs().run()
"""


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) > 1 else values[0]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def write_warm_start(home: Path, images: int) -> None:
    """A last run with the batch size and prompt, so the app starts ready to run it."""
    settings = PipelineSettings(images_per_prompt=images)
    save_last_run(home / "data" / LAST_RUN_NAME, settings, PROMPT, "")


class Tmux:
    """One tmux server on its own socket with one 100×30 session; removed on `kill`."""

    def __init__(self) -> None:
        self.name = f"stablenew-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.env = {key: value for key, value in os.environ.items() if key != "TMUX"}
        self.socket_path: str | None = None

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["tmux", "-L", self.name, *args],
            capture_output=True, text=True, env=self.env, timeout=10, check=False,
        )  # fmt: skip

    def start(self, command: list[str]) -> None:
        """Start `command`; its pane stays after it exits, so a traceback can be read."""
        self.run("new-session", "-d", "-s", self.name, "-x", "100", "-y", "30",
                 shlex.join(command), ";", "set-option", "remain-on-exit", "on")  # fmt: skip
        self.socket_path = self.run("display-message", "-p", "#{socket_path}").stdout.strip()

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name).stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.name, *keys)

    def alive(self) -> bool:
        """The command is still running."""
        return self.run("display-message", "-p", "-t", self.name, "#{pane_dead}").stdout == "0\n"

    def wait_for(self, found: Callable[[str], bool], poll: float = POLL_S) -> float:
        """Seconds until a capture satisfies `found`; raises after GIVE_UP_S or on exit."""
        started = time.perf_counter()
        while time.perf_counter() - started < GIVE_UP_S:
            if found(self.screen()):
                return time.perf_counter() - started
            if not self.alive():
                raise RuntimeError(f"the app exited; screen:\n{self.screen()}")
            if poll:
                time.sleep(poll)
        raise RuntimeError(f"gave up after {GIVE_UP_S:.0f} s; screen:\n{self.screen()}")

    def quit(self) -> None:
        """Ctrl+Q, a few seconds to exit, then the server and its socket file go."""
        self.keys("C-q")
        deadline = time.perf_counter() + 10
        while self.alive() and time.perf_counter() < deadline:
            time.sleep(0.05)
        self.run("kill-server")
        if self.socket_path:  # tmux 3.3 leaves the socket file behind
            Path(self.socket_path).unlink(missing_ok=True)
