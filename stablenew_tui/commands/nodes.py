"""`stablenew nodes`: each node's state, server, loaded model, speed and images made;
`stablenew nodes probe URL`: whether an address can serve as a node, check by check."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from stablenew_tui.commands.common import add_node_arguments, load_app_config, open_session
from stablenew_tui.commands.exit_codes import EXIT_FAILED, EXIT_OK
from stablenew_tui.paths import AppPaths
from stablenew_tui.services.nodes import (
    SPEED_HEADER,
    NodeReport,
    ProbeReport,
    cut_name,
    node_from_url,
    probe,
    report_nodes,
    short_model,
    speed_text,
)

# node, state, server, model, speed, done, failed: 80 columns with the spaces between.
WIDTHS = (12, 12, 18, 17, 6, 5, 4)
HEADER = ("node", "state", "server", "model", SPEED_HEADER, "done", "fail")
NUMBERS = 2  # the last columns are counts, aligned right


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "nodes",
        description="Show each node (from --node or the config): its state, server and "
        "version, loaded model, speed (steps per second at 512×512, from the speeds measured "
        "in earlier runs), and the images it made and failed (every run in the queue, counted "
        "for the node that took each image last). Exits 0 when some node answers, 1 when none "
        "does.",
    )
    add_node_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=show_nodes)
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    checks = actions.add_parser(
        "probe",
        help="check that URL can serve as a node: reachable, auth, API, server, models",
        description="Check an address before using it: does it answer, does it take the "
        "credentials, does it serve the WebUI API, which server and version it is, and how "
        "many checkpoints it has. Exits 0 when usable, 1 when not, 2 on a bad URL.",
    )
    checks.add_argument("url", metavar="URL", help="the WebUI's address, e.g. http://gpu1:7860")
    checks.add_argument("--user", help="user name, when the WebUI asks for one")
    checks.add_argument(
        "--password-env", metavar="VAR", help="the environment variable holding the password"
    )
    checks.add_argument(
        "--config", type=Path, metavar="FILE", default=argparse.SUPPRESS,  # see add_node_arguments
        help="config file (for the client's timeouts)",
    )  # fmt: skip
    checks.add_argument("--json", action="store_true", help="print JSON instead of text")
    checks.set_defaults(func=probe_node)


def show_nodes(args: argparse.Namespace) -> int:
    return asyncio.run(_show_nodes(args))


async def _show_nodes(args: argparse.Namespace) -> int:
    async with open_session(args, demo_speed=0) as session:
        data_dir = session.app_paths.data_dir
        reports = await report_nodes(session.nodes, session.config.client, data_dir)
    if args.json:
        print(json.dumps([report.as_json() for report in reports], indent=2))
    else:
        print("\n".join([_row(HEADER), *(_row(_cells(report)) for report in reports)]))
    # A script asks "can anything make images?"; one node's trouble is in the table.
    return EXIT_OK if any(report.server is not None for report in reports) else EXIT_FAILED


def _cells(report: NodeReport) -> tuple[str, ...]:
    counts = (str(report.tally.done), str(report.tally.failed))
    if report.server is None:  # why it does not answer, across server, model and speed
        return (report.name, report.state, report.detail, *counts)
    server, model = report.server.describe(short=True), short_model(report.model)
    return (report.name, report.state, server, model, speed_text(report.speed), *counts)


def _row(cells: tuple[str, ...]) -> str:
    """The cells in their columns, each cut to fit; a node that does not answer has its
    reason across the server, model and speed columns."""
    widths: tuple[int, ...] = WIDTHS
    if len(cells) < len(WIDTHS):
        widths = (*WIDTHS[:2], sum(WIDTHS[2:5]) + 2, *WIDTHS[5:])
    shown = []
    for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        if index == 0:
            fitted = cut_name(cell, width)
        else:
            fitted = cell if len(cell) <= width else cell[: width - 1] + "…"
        number = index >= len(cells) - NUMBERS
        shown.append(fitted.rjust(width) if number else fitted.ljust(width))
    return " ".join(shown).rstrip()


def probe_node(args: argparse.Namespace) -> int:
    node = node_from_url(args.url, user=args.user, password_env=args.password_env)
    config = load_app_config(args.config, AppPaths.from_environment())
    report = asyncio.run(probe(node, config.client))
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(_probe_text(report))
    return EXIT_OK if report.usable else EXIT_FAILED


def _probe_text(report: ProbeReport) -> str:
    lines = [report.url]
    lines += [f"  {'✓' if c.ok else '✗'} {c.what:<10} {c.text}" for c in report.checks]
    verdict = "usable as a node" if report.usable else f"not usable: {report.problem}"
    lines.append(f"verdict: {verdict}")
    return "\n".join(lines)
