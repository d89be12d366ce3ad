"""Small tools shared by the simulator tests."""

from __future__ import annotations

import asyncio
import base64
import inspect
import io
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from PIL import Image, ImageChops, ImageStat

from stablenew_tui.sim import SimServer

API = "/sdapi/v1"


@asynccontextmanager
async def serving(
    flavor: str = "a1111", *, speed: float = 0, **options: Any
) -> AsyncIterator[tuple[SimServer, httpx.AsyncClient]]:
    """A simulator of `flavor` and a client for it."""
    async with (
        SimServer(flavor=flavor, speed=speed, **options) as sim,
        httpx.AsyncClient(base_url=sim.url, timeout=30) as http,
    ):
        yield sim, http


def png_b64(width: int, height: int, colour: tuple[int, int, int] = (200, 40, 40)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def decode(encoded: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    image.load()
    return image


def info_of(answer: httpx.Response) -> dict[str, Any]:
    return json.loads(answer.json()["info"])


def mean_difference(first: Image.Image, second: Image.Image) -> float:
    """Average per-channel difference, 0..255."""
    a, b = first.convert("RGB"), second.convert("RGB").resize(first.size)
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = 15.0
) -> None:
    """Poll `condition` (plain or async) until it holds; fails naming `what` if it never does."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def wait_until_sync(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """`wait_until` for synchronous tests."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


async def progress_state(client: httpx.AsyncClient) -> dict[str, Any]:
    return (await client.get(f"{API}/progress")).json()
