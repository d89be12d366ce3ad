"""A request to a node looks up no module: Python does not remember an import that failed,
so one tried on every request (httpcore asks for `sniffio`, which newer anyio no longer
brings) searches every folder on the path each time."""

from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder

import pytest

from tests.integration.conftest import client_for


class _LookedUp(MetaPathFinder):
    """First on the import path: sees every import not already loaded, finds none itself."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, name, path, target=None):
        self.names.append(name)
        return None


@pytest.fixture
def looked_up():
    finder = _LookedUp()
    sys.meta_path.insert(0, finder)
    yield finder
    sys.meta_path.remove(finder)


async def test_requests_to_a_node_import_nothing(sim, looked_up):
    async with client_for(sim.url) as client:
        await client.progress()  # the first request may load what requests need
        looked_up.names.clear()
        for _ in range(5):
            await client.progress()
    assert looked_up.names == []
