"""Copying to the clipboard of the terminal the user sits at, even over SSH: OSC 52.

Most terminals accept OSC 52 (kitty, WezTerm, iTerm2, Windows Terminal, foot, Alacritty;
xterm once `allowWindowOps` allows it). tmux passes it on only with `set -g set-clipboard on`
(its default, `external`, drops what applications send), so inside tmux the option is read and
the user told how to set it when it is off.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

from textual.app import App

TMUX_HINT = "inside tmux, copying needs `set -g set-clipboard on` in ~/.tmux.conf"


def copy(app: App, text: str, what: str) -> None:
    """Send `text` to the clipboard and say so, with how to make it work when it cannot."""
    app.copy_to_clipboard(text)
    problem = tmux_clipboard_problem()
    if problem:
        app.notify(f"{what} sent to the clipboard, but {problem}", severity="warning", timeout=8)
    else:
        app.notify(f"{what} copied", timeout=2)


@functools.cache
def tmux_clipboard_problem() -> str | None:
    """Why OSC 52 will not reach the clipboard from this tmux, once per session; None
    outside tmux, when tmux passes it on, or when tmux cannot be asked."""
    tmux = shutil.which("tmux")
    if not os.environ.get("TMUX") or tmux is None:
        return None
    try:
        asked = subprocess.run(
            [tmux, "show-options", "-gv", "set-clipboard"],
            capture_output=True, text=True, timeout=2, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    setting = asked.stdout.strip()
    return None if asked.returncode or setting in ("on", "") else TMUX_HINT
