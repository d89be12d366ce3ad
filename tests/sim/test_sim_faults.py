"""Injected faults behave like real failures on the wire, and leave the server's state intact."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from stablenew_tui.sim import SimServer

from .helpers import API, serving, wait_until

SMALL = {"prompt": "a kite", "steps": 3, "width": 64, "height": 64}


async def test_fail_next_answers_500_then_recovers(
    sim: SimServer, client: httpx.AsyncClient
) -> None:
    sim.faults.fail_next(2)
    statuses = [(await client.post(f"{API}/txt2img", json=SMALL)).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    failed = sim.requests.for_path("txt2img")[0]
    assert failed.fault == "fail" and failed.body == SMALL


async def test_fail_body_has_the_flavor_shape(client: httpx.AsyncClient, sim: SimServer) -> None:
    sim.faults.fail_next(message="boom")
    body = (await client.get(f"{API}/sd-models")).json()
    assert body == {"error": "RuntimeError", "detail": "", "body": "", "errors": "boom"}


async def test_polling_routes_are_not_hit_by_default(
    sim: SimServer, client: httpx.AsyncClient
) -> None:
    sim.faults.fail_next()
    assert (await client.get(f"{API}/progress")).status_code == 200
    for route in ("interrupt", "skip"):
        assert (await client.post(f"{API}/{route}")).status_code == 200
    assert (await client.get(f"{API}/options")).status_code == 500


async def test_path_filter_picks_the_route(sim: SimServer, client: httpx.AsyncClient) -> None:
    sim.faults.fail_next(path="txt2img")
    assert (await client.get(f"{API}/options")).status_code == 200
    assert (await client.post(f"{API}/txt2img", json=SMALL)).status_code == 500


async def test_out_of_memory_reads_like_torch(sim: SimServer, client: httpx.AsyncClient) -> None:
    sim.faults.oom_next(path="txt2img")
    answer = await client.post(f"{API}/txt2img", json=SMALL)
    assert answer.status_code == 500
    assert "CUDA out of memory" in answer.text
    assert answer.json()["error"] == "OutOfMemoryError"
    memory = (await client.get(f"{API}/memory")).json()
    assert memory["cuda"]["events"]["oom"] == 1


async def test_drop_closes_the_connection_without_an_answer(
    sim: SimServer, client: httpx.AsyncClient
) -> None:
    sim.faults.drop_next()
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post(f"{API}/txt2img", json=SMALL)
    assert (await client.post(f"{API}/txt2img", json=SMALL)).status_code == 200


async def test_hang_holds_the_request_until_cleared(
    sim: SimServer, client: httpx.AsyncClient
) -> None:
    sim.faults.hang_next()
    with pytest.raises(httpx.ReadTimeout):
        await client.post(f"{API}/txt2img", json=SMALL, timeout=0.3)
    sim.faults.hang_next()
    hanging = asyncio.create_task(client.post(f"{API}/txt2img", json=SMALL))
    await wait_until(lambda: len(sim.requests.for_path("txt2img")) == 2, "the request to arrive")
    assert not hanging.done()
    sim.faults.clear()
    assert (await hanging).status_code == 200


async def test_hang_for_some_seconds_then_answers(
    sim: SimServer, client: httpx.AsyncClient
) -> None:
    sim.faults.hang_next(seconds=0.05)
    assert (await client.post(f"{API}/txt2img", json=SMALL)).status_code == 200


async def test_down_refuses_connections_then_comes_back_with_its_state(
    sim: SimServer, client: httpx.AsyncClient
) -> None:
    await client.post(f"{API}/options", json={"CLIP_stop_at_last_layers": 2})
    sim.faults.down_next(60, path="txt2img")
    with pytest.raises(httpx.TransportError):
        await client.post(f"{API}/txt2img", json=SMALL)
    assert sim.is_down
    with pytest.raises(httpx.ConnectError):
        await client.get(f"{API}/options")
    sim.faults.clear()  # ends the outage early
    await wait_until(lambda: not sim.is_down, "the server to come back")
    options = (await client.get(f"{API}/options")).json()
    assert options["CLIP_stop_at_last_layers"] == 2
    assert len(sim.requests.for_path("txt2img")) == 1


async def test_admin_routes_script_faults_at_run_time(
    sim: SimServer, client: httpx.AsyncClient
) -> None:
    added = await client.post("/sim/faults", json={"kind": "fail", "count": 2, "path": "txt2img"})
    assert added.status_code == 200
    listed = (await client.get("/sim/faults")).json()["pending"]
    assert [(f["kind"], f["remaining"], f["path"]) for f in listed] == [("fail", 2, "txt2img")]
    assert (await client.post("/sim/faults", json={"kind": "explode"})).status_code == 422
    assert (await client.post("/sim/faults", json={"kind": "down"})).status_code == 400
    assert (await client.delete("/sim/faults")).json() == {"pending": []}
    assert (await client.post(f"{API}/txt2img", json=SMALL)).status_code == 200


async def test_admin_can_take_the_server_down_now() -> None:
    async with serving() as (sim, http):
        answer = await http.post("/sim/faults", json={"kind": "down", "seconds": 30, "now": True})
        assert answer.status_code == 200
        await wait_until(lambda: sim.is_down, "the outage to start")
        with pytest.raises(httpx.ConnectError):
            await http.get(f"{API}/options")
        sim.faults.clear()
        await wait_until(lambda: not sim.is_down, "the server to come back")
        assert (await http.get(f"{API}/options")).status_code == 200


async def test_request_log_over_http(sim: SimServer, client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/txt2img", json=SMALL | {"mystery": True})
    await client.get(f"{API}/progress", params={"skip_current_image": "true"})
    log = (await client.get("/sim/requests")).json()
    assert [(entry["method"], entry["path"]) for entry in log] == [
        ("POST", f"{API}/txt2img"),
        ("GET", f"{API}/progress"),
    ]
    assert log[0]["body"] == SMALL | {"mystery": True}
    assert log[0]["ignored_fields"] == ["mystery"]
    assert log[1]["query"] == {"skip_current_image": "true"} and log[1]["body"] is None
    await client.delete("/sim/requests")
    assert (await client.get("/sim/requests")).json() == []
    assert len(sim.requests) == 0
