"""Entry point `stablenew`: parses the command line and hands over to a subcommand."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from stablenew_tui import __version__
from stablenew_tui.commands import COMMANDS
from stablenew_tui.commands.exit_codes import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
)
from stablenew_tui.commands.node_arguments import add_node_arguments
from stablenew_tui.errors import InputError, StableNewError


class _Parser(argparse.ArgumentParser):
    """argparse prints usage and exits 2 on a bad flag; we keep that, minus the usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


class _Commands(argparse._SubParsersAction):
    """Every command in `stablenew --help`, by its name and line in COMMANDS; a command's
    module is imported, and its parser built, only when it is the command asked for: building
    every parser would import every command's dependencies for each invocation."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = COMMANDS  # an unknown command: exit 2, naming these
        for name, line in COMMANDS.items():
            self._choices_actions.append(self._ChoicesPseudoAction(name, (), line))

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        name = values[0]  # checked against `choices` already
        if name not in self._name_parser_map:
            importlib.import_module(f"stablenew_tui.commands.{name}").register(self)
        super().__call__(parser, namespace, values, option_string)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="stablenew",
        description="Batch image pipeline for Stable Diffusion WebUI servers. "
        "Without a command, opens the terminal UI (--demo: on the built-in simulator).",
    )
    parser.add_argument("--version", action="version", version=f"stablenew {__version__}")
    add_node_arguments(parser, top_level=True)
    parser.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, action=_Commands
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        from stablenew_tui.tui.main import run_tui

        func = run_tui
    try:
        return int(func(args) or EXIT_OK)
    except InputError as error:
        print(f"stablenew: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StableNewError as error:
        print(f"stablenew: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): not an error worth a traceback. Point stdout at
        # /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
