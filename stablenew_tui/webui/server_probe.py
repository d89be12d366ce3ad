"""Which server a node is (A1111, Forge or SD.Next), its version, and whether it serves the
API at all: told apart by the routes only one flavor has, all asked at once."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

from stablenew_tui.webui.errors import (
    TRANSIENT_STATUSES,
    WebUIBadAnswer,
    WebUINoApi,
    WebUIRejected,
)
from stablenew_tui.webui.models import Flavor, ServerInfo, out_of_memory_count
from stablenew_tui.webui.transport import API, NodeTransport


async def probe_server(transport: NodeTransport) -> tuple[ServerInfo, int | None]:
    """The server, and the GPU's out-of-memory count (from `memory`) as it was asked."""
    node = transport.node
    paths = ("sd-modules", "version", "schedulers", "samplers", "/internal/sysinfo", "memory")
    answers = await asyncio.gather(
        *(transport.status_of(path if path.startswith("/") else f"{API}/{path}") for path in paths)
    )
    modules, sdnext, schedulers, samplers, sysinfo, memory = answers
    if 401 in (modules[0], schedulers[0], samplers[0]):
        # Raise the same Unauthorized a normal call would, with its message.
        await transport.get(f"{API}/sd-models")
    for path, (status, _) in zip(paths, answers, strict=True):
        if status in TRANSIENT_STATUSES:
            # A proxy in front of a restarting WebUI tells nothing of the flavor: report the
            # bad spell as what it is, so that it is waited out rather than taken for a server
            # without the API.
            endpoint = path.rsplit("/", 1)[-1]
            raise WebUIRejected(node.name, status, _phrase(status), endpoint)
    if samplers[0] == 404 and modules[0] == 404 and sdnext[0] == 404:
        # Every flavor serves `samplers`; a WebUI without --api serves no /sdapi route.
        raise WebUINoApi(
            node.name,
            f"{node.url} answers, but not with the WebUI API (every /sdapi/v1 route is 404): "
            "start the WebUI with --api",
        )
    flavor: Flavor
    if modules[0] == 200:
        flavor = "forge"
    elif sdnext[0] == 200:
        flavor = "sdnext"
    elif schedulers[0] in (200, 404):
        flavor = "a1111"
    else:
        raise WebUIBadAnswer(node.name, "does not look like a Stable Diffusion WebUI API")
    version = _version_from(sdnext[1] if flavor == "sdnext" else sysinfo[1])
    # SD.Next also serves `schedulers`, but lists its samplers there ({name, cls, options},
    # `modules/api/endpoints.py` get_schedulers): it has no separate scheduler field.
    supports_scheduler = flavor != "sdnext" and schedulers[0] == 200
    server = ServerInfo(flavor=flavor, version=version, supports_scheduler=supports_scheduler)
    return server, out_of_memory_count(memory[1])


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a proxy's own code (Cloudflare's 52x)
        return f"status {status}"


def _version_from(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    for key in ("Version", "version", "updated"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None
