from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from stablenew_tui.sim import SimServer


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer(flavor="a1111", speed=0) as server:
        yield server


@pytest.fixture
async def client(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.url, timeout=30) as http:
        yield http
