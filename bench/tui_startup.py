"""(a) Start-up in a real terminal: launch to first frame and to the first READY frame."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tui_common import GIVE_UP_S, POLL_S, Tmux

MINIMAL_MARKER = "minimal baseline app"
MINIMAL_APP = f"""
from textual.app import App
from textual.widgets import Static


class Minimal(App):
    def compose(self):
        yield Static({MINIMAL_MARKER!r})


Minimal().run()
"""


def launch_times(command: list[str], marker: str) -> tuple[float, float]:
    """(first frame, first frame showing `marker`), in seconds from `tmux new-session`."""
    tmux = Tmux()
    started = time.perf_counter()
    try:
        tmux.start(command)
        first = None
        while time.perf_counter() - started < GIVE_UP_S:
            screen = tmux.screen()
            now = time.perf_counter() - started
            if first is None and screen.strip():
                first = now
            if marker in screen:
                return first or now, now
            if not tmux.alive():
                raise RuntimeError(f"exited before showing {marker!r}:\n{tmux.screen()}")
            time.sleep(POLL_S)
        raise RuntimeError(f"no {marker!r} after {GIVE_UP_S:.0f} s:\n{tmux.screen()}")
    finally:
        tmux.quit()


def bench_startup(repeats: int, scratch: Path) -> dict[str, list[float]]:
    minimal = scratch / "minimal_app.py"
    minimal.write_text(MINIMAL_APP)
    times: dict[str, list[float]] = {"minimal": [], "first": [], "ready": []}
    for index in range(repeats + 1):  # the first round warms the disk cache, not counted
        home = scratch / f"startup-{index}"
        base, _ = launch_times([sys.executable, str(minimal)], MINIMAL_MARKER)
        app = ["env", f"STABLENEW_HOME={home}", sys.executable, "-m", "stablenew_tui", "--demo"]
        first, ready = launch_times(app, "demo READY")
        if index:
            times["minimal"].append(base)
            times["first"].append(first)
            times["ready"].append(ready)
    return times
