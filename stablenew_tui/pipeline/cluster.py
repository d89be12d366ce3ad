"""The nodes a run is spread over. The engine always dispatches through a pool, even of one.

A handle keeps no record of which checkpoint its node holds: other clients change it at will, so
every request names its own checkpoint and VAE (see `stage_requests`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from stablenew_tui.config import ClientConfig, NodeConfig
from stablenew_tui.errors import InputError
from stablenew_tui.webui.client import WebUIClient
from stablenew_tui.webui.errors import WebUIError
from stablenew_tui.webui.resources import CatalogCache

log = logging.getLogger("stablenew.engine")


class NodeHandle:
    def __init__(self, client: WebUIClient, webui_root: Path | None = None) -> None:
        self.client = client
        self.catalog = CatalogCache(client, webui_root)

    @property
    def name(self) -> str:
        return self.client.node.name


async def tell(handle: NodeHandle, action: str) -> None:
    """Ask the node to `action` ("interrupt" or "skip") the image it is making; a node that
    does not answer is only logged: its job ends by its own timeout."""
    try:
        await getattr(handle.client, action)()
    except WebUIError as error:
        log.warning("%s could not %s: %s", handle.name, action, error)


class NodePool:
    def __init__(
        self,
        nodes: list[NodeConfig],
        settings: ClientConfig | None = None,
        *,
        webui_root: Path | None = None,
    ) -> None:
        self.settings, self.webui_root = settings, webui_root
        self.handles = self._handles(nodes)

    def _handles(self, nodes: list[NodeConfig]) -> list[NodeHandle]:
        return [NodeHandle(WebUIClient(node, self.settings), self.webui_root) for node in nodes]

    @property
    def nodes(self) -> list[NodeConfig]:
        return [handle.client.node for handle in self.handles]

    def add(self, node: NodeConfig) -> NodeHandle:
        """A node that joins for the rest of the session. InputError when the pool has a
        node of that name or URL already."""
        for known in self.nodes:
            if node.name == known.name or node.url == known.url:
                raise InputError(f"{node.url} is in the pool already, as {known.name}")
        (handle,) = self._handles([node])
        self.handles.append(handle)
        return handle

    async def use(self, nodes: list[NodeConfig]) -> None:
        """Talk to `nodes` instead, from the next run on (a resumed run's own nodes)."""
        await self.aclose()
        self.handles = self._handles(nodes)

    async def aclose(self) -> None:
        for handle in self.handles:
            await handle.client.aclose()

    async def __aenter__(self) -> NodePool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
