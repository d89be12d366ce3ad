"""The one architectural rule: only stablenew_tui/tui/ imports Textual.

Each service module is imported in a fresh interpreter, which then must not have loaded
Textual, so an indirect import through a helper module is caught too.
"""

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
