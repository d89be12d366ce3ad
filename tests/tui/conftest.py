from __future__ import annotations

import pytest

from stablenew_tui.sim import SimServer


@pytest.fixture
async def sim():
    async with SimServer(flavor="a1111", speed=0) as server:
        yield server
