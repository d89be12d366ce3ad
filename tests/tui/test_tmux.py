"""The real `stablenew --demo` in a real terminal (tmux), driven as a person would: wait for the
node, type a template, run it, see it finish, quit. Catches what Pilot cannot: the entry
point, terminal set-up and tear-down, and a clean exit code."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = "a lighthouse at {dusk|dawn}"
# Per step, generous: a loaded 2-core machine may take seconds to start. Four steps stay under
# pytest's 120 s timeout even if every one gives up.
WAIT_SECONDS = 25.0
POLL_SECONDS = 0.1


class Terminal:
    """One tmux server on its own socket, holding one session: never touches anyone else's."""

    def __init__(self, name: str) -> None:
        self.name = name  # of the socket and of the session
        self.socket_path: str | None = None

    def tmux(self, *args: str) -> str:
        env = {key: value for key, value in os.environ.items() if key != "TMUX"}
        done = subprocess.run(
            ["tmux", "-L", self.name, *args],
            capture_output=True, text=True, env=env, timeout=10, check=False,
        )  # fmt: skip
        return done.stdout

    def start(self, command: str) -> None:
        self.tmux("new-session", "-d", "-s", self.name, "-x", "100", "-y", "30",
                  "-c", str(REPO_ROOT), command)  # fmt: skip
        self.socket_path = self.tmux("display-message", "-p", "#{socket_path}").strip() or None

    def screen(self) -> str:
        """What is on the screen, plus the scrollback (where a traceback would land)."""
        return self.tmux("capture-pane", "-p", "-t", self.name, "-S", "-200")

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.name, "-l", text)

    def press(self, key: str) -> None:
        self.tmux("send-keys", "-t", self.name, key)

    def kill(self) -> None:
        self.tmux("kill-server")
        if self.socket_path:  # tmux 3.3 leaves the socket file behind
            Path(self.socket_path).unlink(missing_ok=True)


def wait_for(
    condition: Callable[[], bool], what: str, terminal: Terminal, exit_file: Path | None = None
) -> None:
    """Poll until `condition` holds; fail after WAIT_SECONDS, or at once if the app exited."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        if exit_file is not None and exit_file.exists():
            pytest.fail(f"the app exited while waiting for {what}; screen:\n{terminal.screen()}")
        time.sleep(POLL_SECONDS)
    pytest.fail(f"gave up after {WAIT_SECONDS:.0f} s waiting for {what}; screen:\n"
                f"{terminal.screen()}")  # fmt: skip


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    term = Terminal(f"stablenew-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        yield term
    finally:
        term.kill()


def test_demo_runs_a_template_and_quits_cleanly(
    terminal: Terminal, stablenew_home: Path, tmp_path: Path
) -> None:
    exit_file = tmp_path / "exit"
    app = shlex.join(["env", f"STABLENEW_HOME={stablenew_home}",
                      sys.executable, "-m", "stablenew_tui", "--demo"])  # fmt: skip
    # The shell outlives the app so the exit code and anything printed after it stay readable.
    # stderr stays on the terminal: Textual draws there.
    script = f"{app}; echo EXIT=$? > {shlex.quote(str(exit_file))}; sleep 60"
    terminal.start(shlex.join(["sh", "-c", script]))

    ready = "the demo node to be READY"
    wait_for(lambda: "demo READY" in terminal.screen(), ready, terminal, exit_file)

    # The keyboard starts in the segment list; `e` edits the template. A person starts typing
    # once the template says it is being edited: keys typed ahead would go to the list.
    terminal.type("e")
    wait_for(lambda: "editing" in terminal.screen(), "the template in edit", terminal, exit_file)
    terminal.type(TEMPLATE)
    # A person presses Ctrl+R once the preview shows the prompt; the editor re-parses the
    # template only after typing settles.
    wait_for(
        lambda: "a lighthouse at dusk" in (s := terminal.screen()) or "a lighthouse at dawn" in s,
        "the next-prompt preview", terminal, exit_file,
    )  # fmt: skip
    terminal.press("C-r")
    finished = "the run to finish"
    wait_for(lambda: "finished: 1 done" in terminal.screen(), finished, terminal, exit_file)

    images = list((stablenew_home / "output").glob("*/txt2img/*.png"))
    assert len(images) == 1, images

    terminal.press("C-q")
    wait_for(exit_file.exists, "the app to exit after Ctrl+Q", terminal)
    wait_for(lambda: exit_file.read_text().strip() != "", "the exit code", terminal)
    screen = terminal.screen()
    assert exit_file.read_text().strip() == "EXIT=0", screen
    assert "Traceback" not in screen, screen
