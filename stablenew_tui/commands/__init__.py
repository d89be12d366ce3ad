"""One module per `stablenew` subcommand; each exposes `register(subparsers)`.

`register` adds an argparse sub-parser and sets `func` to a callable `(args) -> int` that returns
the exit code. Bad input raises `InputError`; `cli.main` turns it into one line and exit code 2.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

# The order `stablenew --help` lists them in.
_COMMAND_MODULES = (
    "run", "runs", "compare", "refine", "prompts", "rate", "learn", "video", "resources", "nodes",
    "sim",
)  # fmt: skip


def registered_commands() -> list[Callable]:
    return [
        importlib.import_module(f"stablenew_tui.commands.{name}").register
        for name in _COMMAND_MODULES
    ]
