"""The one architectural rule: only stablenew_tui/tui/ imports Textual.

Each service module is imported in a fresh interpreter, which then must not have loaded
Textual, so an indirect import through a helper module is caught too.
"""

import os
import subprocess
import sys

from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "stablenew_tui"


def _service_modules() -> list[str]:
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(REPO_ROOT).with_suffix("")
        parts = relative.parts
        if parts[1] == "tui" or parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules.append(".".join(parts))
    return modules


def test_services_never_load_textual():
    modules = _service_modules()
    assert "stablenew_tui.webui.client" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "ui = ('textual', 'textual_image')\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ui)\n"
        "print(','.join(leaked))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert result.stdout.strip() == "", f"Textual loaded by a service module: {result.stdout}"


def _in_fresh_interpreter(script: str, fps: str | None) -> str:
    """What `script` prints, run with TEXTUAL_FPS set to `fps` (None: not set)."""
    env = {key: value for key, value in os.environ.items() if key != "TEXTUAL_FPS"}
    if fps is not None:
        env["TEXTUAL_FPS"] = fps
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT,
        check=True, env=env,
    )  # fmt: skip
    return result.stdout.strip()


def test_the_tui_entry_sets_the_frame_rate_before_textual_is_imported():
    """`stablenew` with no subcommand imports everything the TUI needs, then stops at the
    conflicting flags: the cap must already be in place."""
    script = (
        "from stablenew_tui.cli import main\n"
        "code = main(['--demo', '--node', 'http://127.0.0.1:9'])\n"
        "import textual.constants\n"
        "print(code, textual.constants.MAX_FPS)\n"
    )
    assert _in_fresh_interpreter(script, fps=None).split() == ["2", "120"]


def test_a_frame_rate_the_user_set_is_kept():
    script = "import stablenew_tui.tui.textual_env, textual.constants as c; print(c.MAX_FPS)"
    assert _in_fresh_interpreter(script, fps="30") == "30"
