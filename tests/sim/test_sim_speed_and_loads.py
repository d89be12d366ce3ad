"""The simulator's timing controls: its speed set while it serves, checkpoint loads counted and
their length scaled."""

from __future__ import annotations

import asyncio
import time

import httpx

from stablenew_tui.sim import SimServer

from .helpers import API, serving

# 64×64 is 0.004096 megapixels: a step takes about 1 ms at speed 1.
SMALL = {"prompt": "a kite", "steps": 3, "width": 64, "height": 64}


async def timed_txt2img(client: httpx.AsyncClient, body: dict) -> float:
    started = time.perf_counter()
    answer = await client.post(f"{API}/txt2img", json=body)
    answer.raise_for_status()
    return time.perf_counter() - started


async def test_speed_set_through_the_admin_route_governs_the_next_job(
    sim: SimServer, client: httpx.AsyncClient
) -> None:
    assert await timed_txt2img(client, SMALL) < 0.25  # speed 0: instant
    status = (await client.post("/sim/speed", json={"speed": 0.01})).json()
    assert status["speed"] == 0.01 and sim.speed == 0.01
    # 3 steps of 0.001 s at speed 1 take 0.3 s at 0.01.
    assert await timed_txt2img(client, SMALL) >= 0.3
    assert (await client.get("/sim/status")).json()["speed"] == 0.01


async def test_a_job_under_way_takes_the_new_speed_from_its_next_step() -> None:
    # 20 steps of 0.05 s at speed 1: a second unchanged; sped up 100× after 0.2 s.
    slow = {**SMALL, "steps": 20, "width": 448, "height": 448}
    async with serving(speed=1.0) as (_, client):
        job = asyncio.create_task(timed_txt2img(client, slow))
        await asyncio.sleep(0.2)
        await client.post("/sim/speed", json={"speed": 100})
        assert await job < 0.6


async def test_a_speed_that_is_not_a_number_of_zero_or_more_is_refused(
    sim: SimServer, client: httpx.AsyncClient
) -> None:
    for body in ({"speed": -1}, {"speed": "fast"}, {}, {"speed": 1, "load": 2}):
        assert (await client.post("/sim/speed", json=body)).status_code == 422, body
    assert sim.speed == 0


async def test_checkpoint_loads_are_counted_and_scaled() -> None:
    other = {**SMALL, "override_settings": {"sd_model_checkpoint": "sd_xl_refiner_1.0"}}
    async with serving(speed=1.0) as (sim, client):
        sim.webui.load_scale = 0.01  # an SDXL load: 4 s at speed 1, here 0.04 s
        assert (await client.get("/sim/status")).json()["checkpoint_loads"] == 0
        assert await timed_txt2img(client, SMALL) < 1.0  # the loaded checkpoint: no load
        assert await timed_txt2img(client, other) < 1.0
        await timed_txt2img(client, other)  # still loaded
        status = (await client.get("/sim/status")).json()
        assert status["checkpoint_loads"] == 1 and status["load_scale"] == 0.01
        assert status["model"].startswith("sd_xl_refiner_1.0")
