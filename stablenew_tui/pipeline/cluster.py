"""The nodes a run is spread over. The engine always dispatches through a pool, even of one.

A handle remembers which checkpoint and VAE it verified on its node, so a switch (slow: the
WebUI loads the model) happens only when a job asks for something different.
"""

from __future__ import annotations

from pathlib import Path

from stablenew_tui.config import ClientConfig, NodeConfig
from stablenew_tui.webui.client import WebUIClient
from stablenew_tui.webui.resources import CatalogCache


class NodeHandle:
    def __init__(self, client: WebUIClient, webui_root: Path | None = None) -> None:
        self.client = client
        self.catalog = CatalogCache(client, webui_root)
        self.loaded_model: str | None = None
        self.loaded_vae: str | None = None

    @property
    def name(self) -> str:
        return self.client.node.name

    async def ensure(self, model: str | None, vae: str | None) -> None:
        """Switch model and VAE only when different from what was last verified here."""
        if model and model != self.loaded_model:
            await self.client.set_model(model)
            self.loaded_model = model
        if vae and vae != self.loaded_vae:
            await self.client.set_vae(vae)
            self.loaded_vae = vae

    def forget_loaded(self) -> None:
        """After a reconnect the server may have restarted with other choices loaded."""
        self.loaded_model = None
        self.loaded_vae = None


class NodePool:
    def __init__(
        self,
        nodes: list[NodeConfig],
        settings: ClientConfig | None = None,
        *,
        webui_root: Path | None = None,
    ) -> None:
        self.handles = [NodeHandle(WebUIClient(node, settings), webui_root) for node in nodes]

    async def aclose(self) -> None:
        for handle in self.handles:
            await handle.client.aclose()

    async def __aenter__(self) -> NodePool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
