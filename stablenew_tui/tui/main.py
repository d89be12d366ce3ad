"""`stablenew` with no subcommand: the TUI, on the configured nodes or the built-in simulator."""

from __future__ import annotations

import argparse
import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from stablenew_tui.commands.common import load_app_config, nodes_in_thread
from stablenew_tui.paths import AppPaths


def run_tui(args: argparse.Namespace) -> int:
    # First: Textual reads these settings when it is first imported.
    import stablenew_tui.tui.textual_env  # noqa: F401

    # isort: split
    # textual-image asks the terminal which graphics it supports when it is first imported,
    # and waits up to 0.1 s for each answer; a terminal without the kitty protocol (tmux among
    # them) never answers that question. It must be over before Textual takes the terminal.
    # Its big dependencies load first, here: the thread's import is then mostly that waiting.
    import PIL.Image  # noqa: F401
    import textual.app  # noqa: F401

    with imported_meanwhile("textual_image.widget"):
        from stablenew_tui.tui.app import make_app

        app_paths = AppPaths.from_environment()
        config = load_app_config(args.config, app_paths)
    with nodes_in_thread(args, config) as nodes:
        app = make_app(config, app_paths, nodes)
        app.run()
    return app.return_code or 0


@contextmanager
def imported_meanwhile(module: str) -> Iterator[None]:
    """Import `module` in a thread while the block runs; done (or its error raised here) when
    the block ends. For a module whose import waits on something other than the CPU."""
    failed: list[BaseException] = []

    def load() -> None:
        try:
            importlib.import_module(module)
        except BaseException as error:  # raised again in the caller's thread
            failed.append(error)

    loading = threading.Thread(target=load, name=f"import {module}", daemon=True)
    loading.start()
    try:
        yield
    finally:
        loading.join()
    if failed:
        raise failed[0]
