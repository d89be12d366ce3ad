"""Options and set-up shared by the subcommands that talk to WebUI nodes."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

# The commands that talk to nodes take this from here, with the rest of their set-up.
from stablenew_tui.commands.node_arguments import add_node_arguments as add_node_arguments
from stablenew_tui.config import AppConfig, NodeConfig, load_config
from stablenew_tui.errors import InputError
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.settings import layer_problem
from stablenew_tui.prompts import SamplingMode
from stablenew_tui.services.nodes import node_from_url

DEFAULT_NODE_URL = "http://127.0.0.1:7860"
# The demo simulator draws a 512×512, 20-step image in about a second: slow enough to watch.
DEMO_SPEED = 1.0


def add_preset_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset", metavar="NAME|FILE",
        help="a classic StableNew preset: a name in [paths] preset_folders, or a .json file",
    )  # fmt: skip


def add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    """How a template is sampled, and which of its segments are held."""
    parser.add_argument(
        "--mode", choices=[mode.value for mode in SamplingMode], default="random",
        help="how templates are sampled (default: random)",
    )  # fmt: skip
    parser.add_argument(
        "--lock", action="append", default=[], metavar="INDEX=TEXT",
        help="keep template segment INDEX at TEXT (repeatable; see `stablenew prompts segments`)",
    )  # fmt: skip
    parser.add_argument(
        "--pin", action="append", default=[], metavar="INDEX=OPTION",
        help="hold template segment INDEX to its option OPTION, counted from 0 (repeatable)",
    )  # fmt: skip


@dataclass
class Session:
    """What a command needs to reach its nodes: the config and the nodes to talk to."""

    config: AppConfig
    app_paths: AppPaths
    nodes: list[NodeConfig]
    # Neither --node, --demo nor the config named any: the default address stands in, and a
    # resumed run goes back to the nodes it was started with instead.
    nodes_by_default: bool = False


def load_app_config(path: Path | None, app_paths: AppPaths) -> AppConfig:
    """The config file, its [stages] values checked where their lines are known."""
    return load_config(path, app_paths, check_stages=layer_problem)


@asynccontextmanager
async def open_session(
    args: argparse.Namespace, *, demo_speed: float = DEMO_SPEED
) -> AsyncIterator[Session]:
    app_paths = AppPaths.from_environment()
    config = load_app_config(args.config, app_paths)
    if wants_demo(args):
        from stablenew_tui.sim import SimServer

        async with SimServer(speed=demo_speed) as sim:
            yield Session(config, app_paths, [demo_node(sim.url)])
        return
    by_default = not args.node and not config.nodes
    yield Session(config, app_paths, nodes_from(args.node, config), by_default)


@contextmanager
def nodes_in_thread(args: argparse.Namespace, config: AppConfig) -> Iterator[list[NodeConfig]]:
    """The nodes for a caller that runs its own event loop (the TUI): with --demo, a simulator
    served from a thread until the block ends."""
    if not wants_demo(args):
        yield nodes_from(args.node, config)
        return
    from stablenew_tui.sim import SimServer

    simulator = SimServer(speed=DEMO_SPEED).start_in_thread()
    try:
        yield [demo_node(simulator.url)]
    finally:
        simulator.stop()


def wants_demo(args: argparse.Namespace) -> bool:
    if args.demo and args.node:
        raise InputError("--demo and --node exclude each other")
    return bool(args.demo)


def demo_node(url: str) -> NodeConfig:
    return NodeConfig(name="demo", url=url)


def nodes_from(urls: list[str], config: AppConfig) -> list[NodeConfig]:
    if urls:
        return [node_from_url(url, what="--node") for url in urls]
    return config.nodes or [NodeConfig(url=DEFAULT_NODE_URL)]
