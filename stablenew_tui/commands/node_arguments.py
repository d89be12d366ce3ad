"""The options naming the WebUI nodes to use, for `stablenew` itself (the TUI) and for the
commands that talk to nodes. Kept apart from `commands.common`, which imports the config and
prompt machinery, so that building the top-level parser imports neither."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_node_arguments(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """The top-level parser holds the defaults. A command's copies have none (`SUPPRESS`), so
    what was given before the command's name (`stablenew --node URL run`) is not overwritten
    by the command's own defaults; given after it, it applies all the same."""
    unset = argparse.SUPPRESS
    parser.add_argument(
        "--config", type=Path, metavar="FILE", default=None if top_level else unset,
        help="config file to use",
    )  # fmt: skip
    parser.add_argument(
        "--node", action="append", metavar="URL", default=[] if top_level else unset,
        help="WebUI server to use (repeatable); overrides the config's nodes",
    )  # fmt: skip
    parser.add_argument(
        "--demo", action="store_true", default=False if top_level else unset,
        help="start the built-in simulator and use it",
    )  # fmt: skip
