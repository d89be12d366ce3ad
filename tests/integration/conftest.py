"""Integration fixtures: a real simulator on a free loopback port."""

from __future__ import annotations

import pytest

from stablenew_tui.config import ClientConfig, NodeConfig
from stablenew_tui.sim import SimServer
from stablenew_tui.webui.client import WebUIClient

FLAVORS = ["a1111", "a1111-1.8", "forge", "sdnext"]


@pytest.fixture
async def sim():
    async with SimServer(flavor="a1111", speed=0) as server:
        yield server


@pytest.fixture(params=FLAVORS)
async def any_sim(request):
    async with SimServer(flavor=request.param, speed=0) as server:
        yield server


def client_for(url: str, **settings) -> WebUIClient:
    """A client with fast retries, so fault tests do not wait on real backoff delays."""
    node = NodeConfig(url=url)
    return WebUIClient(node, ClientConfig(**settings), retry_base_delay=0.01)
