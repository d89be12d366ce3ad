"""`stablenew resources`: what each node offers, as text or JSON."""

from __future__ import annotations

import argparse
import asyncio
import json

from stablenew_tui.commands.common import add_node_arguments, open_session
from stablenew_tui.webui.client import WebUIClient
from stablenew_tui.webui.resources import CatalogCache, ResourceCatalog


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "resources",
        description="List what each WebUI node offers. Falls back to scanning the WebUI's "
        "folders (paths.webui_root) when its API cannot be reached.",
    )
    add_node_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    async with open_session(args, demo_speed=0) as session:
        results = []
        for node in session.nodes:
            async with WebUIClient(node, session.config.client) as client:
                cache = CatalogCache(client, session.config.paths.webui_root)
                results.append((node, await cache.get()))
    if args.json:
        print(json.dumps([_as_json(node.name, node.url, catalog) for node, catalog in results]))
    else:
        print("\n\n".join(_as_text(node.name, node.url, catalog) for node, catalog in results))
    return 0


def _as_json(name: str, url: str, catalog: ResourceCatalog) -> dict:
    data = catalog.model_dump(mode="json", exclude={"model_details", "fetched_at"})
    return {"node": name, "url": url, **data}


def _as_text(name: str, url: str, catalog: ResourceCatalog) -> str:
    server = catalog.server.describe() if catalog.server else "unreachable"
    origin = "from its API" if catalog.source == "api" else "from its folders (API unreachable)"
    lines = [f"{name} — {server} at {url}, {origin}"]
    for title, names in catalog.sections().items():
        if title == "schedulers" and not catalog.schedulers_supported:
            lines.append("schedulers: none (this server picks the schedule by sampler name)")
            continue
        lines.append(f"{title} ({len(names)}):")
        lines.extend(f"  {item}" for item in names)
    return "\n".join(lines)
