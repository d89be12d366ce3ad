"""`stablenew` with no subcommand: the TUI, on the configured nodes or the built-in simulator."""

from __future__ import annotations

import argparse

from stablenew_tui.commands.common import load_app_config, nodes_in_thread
from stablenew_tui.paths import AppPaths


def run_tui(args: argparse.Namespace) -> int:
    # First: Textual reads these settings when it is first imported.
    import stablenew_tui.tui.textual_env  # noqa: F401

    # isort: split
    # textual-image asks the terminal what graphics it supports when first imported; that
    # must happen before Textual takes the terminal over.
    import textual_image.widget  # noqa: F401

    from stablenew_tui.tui.app import make_app

    app_paths = AppPaths.from_environment()
    config = load_app_config(args.config, app_paths)
    with nodes_in_thread(args, config) as nodes:
        app = make_app(config, app_paths, nodes)
        app.run()
    return app.return_code or 0
