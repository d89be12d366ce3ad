"""Each failure a real node can produce becomes the right typed error with a clean message."""

from __future__ import annotations

import pytest

from stablenew_tui.config import ClientConfig, NodeConfig
from stablenew_tui.sim import SimServer
from stablenew_tui.webui.client import WebUIClient
from stablenew_tui.webui.errors import (
    WebUIOutOfMemory,
    WebUIRejected,
    WebUITimedOut,
    WebUIUnauthorized,
    WebUIUnavailable,
)
from stablenew_tui.webui.requests import Txt2ImgRequest
from stablenew_tui.webui.transport import NodeTransport
from tests.integration.conftest import client_for

REQUEST = Txt2ImgRequest(prompt="a lighthouse", seed=3, steps=2)


def _posts(sim, endpoint: str) -> int:
    return sum(1 for r in sim.requests if r.method == "POST" and r.path.endswith(endpoint))


def _gets(sim, endpoint: str) -> int:
    return sum(1 for r in sim.requests if r.method == "GET" and r.path.endswith(endpoint))


async def test_server_error_on_generation_is_not_retried(sim):
    sim.faults.fail_next(1, path="txt2img")
    async with client_for(sim.url, retries=3) as client:
        with pytest.raises(WebUIRejected) as caught:
            await client.txt2img(REQUEST)
    assert caught.value.status == 500
    assert "Simulated server failure" in str(caught.value)
    assert _posts(sim, "txt2img") == 1


async def test_out_of_memory_is_typed_and_never_retried(sim):
    sim.faults.oom_next(1, path="txt2img")
    async with client_for(sim.url, retries=3) as client:
        with pytest.raises(WebUIOutOfMemory, match="out of memory"):
            await client.txt2img(REQUEST)
    assert _posts(sim, "txt2img") == 1


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gets_are_retried_through_transient_errors(sim, status):
    sim.faults.fail_next(2, path="sd-models", status=status)
    async with client_for(sim.url, retries=3) as client:
        assert await client.sd_models()
    assert _gets(sim, "sd-models") == 3


@pytest.mark.parametrize("status", [400, 404, 422, 500])
async def test_a_get_the_server_rejects_is_not_retried(sim, status):
    sim.faults.fail_next(1, path="sd-models", status=status)
    async with client_for(sim.url, retries=3) as client:
        with pytest.raises(WebUIRejected) as caught:
            await client.sd_models()
    assert caught.value.status == status
    assert _gets(sim, "sd-models") == 1


async def test_gets_give_up_after_their_retries(sim):
    sim.faults.fail_next(5, path="sd-models", status=503)
    async with client_for(sim.url, retries=1) as client:
        with pytest.raises(WebUIRejected):
            await client.sd_models()
    assert _gets(sim, "sd-models") == 2


async def test_dropped_connection_is_unavailable(sim):
    sim.faults.drop_next(1, path="txt2img")
    async with client_for(sim.url) as client:
        with pytest.raises(WebUIUnavailable, match="connection dropped during txt2img"):
            await client.txt2img(REQUEST)
    assert _posts(sim, "txt2img") <= 1


async def test_hang_times_out(sim):
    sim.faults.hang_next(1, path="txt2img")
    async with client_for(sim.url, read_timeout=0.3) as client:
        with pytest.raises(WebUITimedOut, match="txt2img did not answer in time"):
            await client.txt2img(REQUEST)
    sim.faults.clear()


async def test_down_server_refuses_and_comes_back(sim):
    async with client_for(sim.url, retries=0) as client:
        await client.server_info()
        sim.faults.down_now(60)
        with pytest.raises(WebUIUnavailable, match="connection refused"):
            await client.sd_models()
        sim.faults.clear()
        assert await client.sd_models()


async def test_refused_connections_are_retried_even_for_generation(sim):
    async with client_for(sim.url, retries=6) as client:
        await client.server_info()
        client._transport.retry_base_delay = 0.1  # outage is far shorter than the backoff sum
        sim.faults.down_now(0.3)
        result = await client.txt2img(REQUEST)
    assert result.images


async def test_unknown_sampler_is_rejected_with_the_servers_reason():
    # Only servers before v1.9 refuse one; later ones replace it (see test_verify.py).
    async with SimServer(flavor="a1111-1.8", speed=0) as sim, client_for(sim.url) as client:
        with pytest.raises(WebUIRejected, match="Sampler not found"):
            await client.txt2img(Txt2ImgRequest(prompt="x", steps=2, sampler_name="Nope"))


async def test_validation_errors_read_like_fastapi_reports(sim):
    transport = NodeTransport(NodeConfig(url=sim.url), ClientConfig(retries=0))
    try:
        with pytest.raises(WebUIRejected) as caught:
            await transport.post("/sdapi/v1/txt2img", {"prompt": "x", "steps": "many"})
    finally:
        await transport.aclose()
    assert caught.value.status == 422
    assert "steps" in caught.value.reason


async def test_auth_required_wrong_and_right():
    async with SimServer(speed=0, auth="artist:hunter2") as sim:
        async with client_for(sim.url) as client:
            with pytest.raises(WebUIUnauthorized, match="are required"):
                await client.sd_models()
            assert await client.loras(), "the Lora route is not behind --api-auth"
        wrong = NodeConfig(url=sim.url, user="artist", password="wrong")
        async with WebUIClient(wrong) as client:
            with pytest.raises(WebUIUnauthorized, match="were not accepted") as caught:
                await client.sd_models()
            assert "wrong" not in str(caught.value)
            assert "wrong" not in repr(client)
        unset = NodeConfig(url=sim.url, user="artist", password_env="STABLENEW_NO_SUCH_VAR")
        async with WebUIClient(unset) as client:
            expected = "STABLENEW_NO_SUCH_VAR \\(password_env\\) is not set"
            with pytest.raises(WebUIUnauthorized, match=expected):
                await client.sd_models()
        right = NodeConfig(url=sim.url, user="artist", password="hunter2")
        async with WebUIClient(right) as client:
            assert (await client.server_info()).flavor == "a1111"
            assert await client.sd_models()


async def test_nothing_listening_is_unavailable():
    async with SimServer(speed=0) as sim:
        url = sim.url
    async with client_for(url, retries=0) as client:
        with pytest.raises(WebUIUnavailable, match="cannot connect"):
            await client.sd_models()


@pytest.mark.parametrize("route", ["sd-modules", "version", "schedulers", "samplers", "memory"])
async def test_a_probe_meeting_a_502_anywhere_finds_the_server_unreachable_for_now(sim, route):
    """Part of a probe answered by a proxy's 502 tells nothing of the flavor: not reachable
    yet, rather than "not a WebUI"."""
    sim.faults.fail_next(1, path=route, status=502)
    async with client_for(sim.url) as client:
        assert not await client.reachable()
        assert await client.reachable(), "and reachable once the spell is over"


async def test_a_proxys_502_on_a_generation_is_not_taken_for_a_failed_model_load(sim):
    sim.faults.fail_next(1, path="txt2img", status=502)
    request = REQUEST.model_copy(
        update={"override_settings": {"sd_model_checkpoint": "no-such-model.safetensors"}}
    )
    async with client_for(sim.url) as client:
        with pytest.raises(WebUIRejected) as caught:
            await client.txt2img(request)
    assert type(caught.value) is WebUIRejected and caught.value.status == 502
    assert not [r for r in sim.requests if r.path.endswith("/options")], "no load check"
