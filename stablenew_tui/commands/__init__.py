"""One module per `stablenew` subcommand; each exposes `register(subparsers)`.

`register` adds an argparse sub-parser and sets `func` to a callable `(args) -> int` that returns
the exit code. Bad input raises `InputError`; `cli.main` turns it into one line and exit code 2.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

# Order is the order `stablenew --help` lists them. A module missing here is simply not offered.
_COMMAND_MODULES = ("run", "sim", "resources", "prompts", "video", "nodes", "learn")


def registered_commands() -> list[Callable]:
    registers = []
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(f"stablenew_tui.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"stablenew_tui.commands.{name}":
                raise
            continue
        registers.append(module.register)
    return registers
