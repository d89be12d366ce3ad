"""The options naming the WebUI nodes to use, for `stablenew` itself (the TUI) and for the
commands that talk to nodes. Kept apart from `commands.common`, which imports the config and
prompt machinery, so that building the top-level parser imports neither."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_node_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE", help="config file to use")
    parser.add_argument(
        "--node",
        action="append",
        metavar="URL",
        default=[],
        help="WebUI server to use (repeatable); overrides the config's nodes",
    )
    parser.add_argument(
        "--demo", action="store_true", help="start the built-in simulator and use it"
    )
