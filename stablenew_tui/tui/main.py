"""`stablenew` with no subcommand: the TUI, on the configured nodes or the built-in simulator."""

from __future__ import annotations

import argparse

from stablenew_tui.commands.common import DEMO_SPEED, nodes_from
from stablenew_tui.config import NodeConfig, load_config
from stablenew_tui.errors import InputError
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
    config = load_config(args.config, app_paths)
    if args.demo and args.node:
        raise InputError("--demo and --node exclude each other")
    simulator = None
    if args.demo:
        from stablenew_tui.sim import SimServer

        simulator = SimServer(speed=DEMO_SPEED).start_in_thread()
        nodes = [NodeConfig(name="demo", url=simulator.url)]
    else:
        nodes = nodes_from(args.node, config)
    try:
        app = make_app(config, app_paths, nodes)
        app.run()
    finally:
        if simulator is not None:
            simulator.stop()
    return app.return_code or 0
