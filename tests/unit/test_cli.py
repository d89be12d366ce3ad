"""The `stablenew` command line: every command listed in `--help` with its line, an unknown
command refused with exit 2, and only the module of the command asked for imported."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

from stablenew_tui import commands
from stablenew_tui.cli import main
from stablenew_tui.commands import COMMANDS
from stablenew_tui.commands.exit_codes import EXIT_BAD_INPUT
from tests.conftest import REPO_ROOT


def _command_modules() -> set[str]:
    """The modules in commands/ that define a command (a `register` function)."""
    names = (module.name for module in pkgutil.iter_modules(commands.__path__))
    return {
        name
        for name in names
        if hasattr(importlib.import_module(f"stablenew_tui.commands.{name}"), "register")
    }


def test_every_command_module_is_listed_once():
    assert set(COMMANDS) == _command_modules()


def test_help_lists_every_command_with_its_line(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--help"])
    assert stopped.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps long lines
    listed = shown.split("commands: COMMAND ", 1)[1]
    for name, line in COMMANDS.items():
        assert f"{name} {line}" in listed, name
    order = [listed.index(f"{name} {line}") for name, line in COMMANDS.items()]
    assert order == sorted(order), "in the registry's order"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_builds_its_own_help(name, capsys):
    with pytest.raises(SystemExit) as stopped:
        main([name, "--help"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: stablenew {name} ")


def test_an_unknown_command_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["lern", "report"])
    assert stopped.value.code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'lern'" in err and "'learn'" in err


def test_a_command_imports_its_own_module_only():
    script = (
        "import sys\n"
        "from stablenew_tui.cli import main\n"
        "try:\n"
        "    main(['learn', 'report', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "prefix = 'stablenew_tui.commands.'\n"
        "print(' '.join(sorted(m[len(prefix):] for m in sys.modules if m.startswith(prefix))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    loaded = set(result.stdout.split())
    assert loaded & set(COMMANDS) == {"learn"}
    assert "common" not in loaded, "the node options come without the config machinery"
