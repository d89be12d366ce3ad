"""The routes beyond generation and model lists: styles, face restorers, Real-ESRGAN, scripts,
extensions, command-line flags, interrogate, refresh and unload/reload, and a WebUI started
without --api."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from stablenew_tui.cli import main
from stablenew_tui.sim import SimServer

from .helpers import API, png_b64, progress_state, serving, wait_until

SMALL = {"prompt": "a pear", "steps": 3, "width": 64, "height": 64}


@pytest.mark.parametrize("flavor", ["a1111", "a1111-1.8", "forge", "sdnext"])
async def test_styles_restorers_and_scripts_in_each_servers_shape(flavor: str) -> None:
    async with serving(flavor) as (_sim, http):
        styles = (await http.get(f"{API}/prompt-styles")).json()
        restorers = (await http.get(f"{API}/face-restorers")).json()
        scripts = (await http.get(f"{API}/scripts")).json()
        info = (await http.get(f"{API}/script-info")).json()
        extensions = (await http.get(f"{API}/extensions")).json()
    sdnext = flavor == "sdnext"
    style_keys = {"name", "prompt", "negative_prompt"}
    if sdnext:
        style_keys |= {"extra", "filename", "preview"}
    assert all(set(style) == style_keys for style in styles)
    assert set(restorers[0]) == ({"name", "path"} if sdnext else {"name", "cmd_dir"})
    assert set(scripts) == ({"txt2img", "img2img", "control"} if sdnext else {"txt2img", "img2img"})
    assert set(info[0]) == {"name", "is_alwayson", "is_img2img", "args"}
    # ADetailer is installed in the a1111 and forge demos only.
    has_adetailer = flavor in ("a1111", "forge")
    assert ("adetailer" in scripts["txt2img"]) == has_adetailer
    assert ([e["name"] for e in extensions] == ["adetailer"]) == has_adetailer
    assert ("sampler" in scripts["txt2img"]) == (flavor in ("a1111", "forge"))  # v1.9+


async def test_realesrgan_models_and_cmd_flags(client: httpx.AsyncClient) -> None:
    models = (await client.get(f"{API}/realesrgan-models")).json()
    flags = (await client.get(f"{API}/cmd-flags")).json()
    assert {"name": "R-ESRGAN 2x+", "path": models[-1]["path"], "scale": 2} == models[-1]
    assert flags["api"] is True and flags["api_auth"] is None


async def test_credentials_show_in_cmd_flags_but_not_in_sysinfo() -> None:
    # Both servers do this: cmd-flags is behind the auth, sysinfo hides the value.
    async with serving(auth="alice:secret") as (_sim, http):
        flags = (await http.get(f"{API}/cmd-flags", auth=("alice", "secret"))).json()
        sysinfo = (await http.get("/internal/sysinfo")).json()
    assert flags["api_auth"] == "alice:secret"
    assert sysinfo["Commandline"][-2:] == ["--api-auth", "<hidden>"]


async def test_interrogate_describes_and_tags(client: httpx.AsyncClient) -> None:
    image = (await client.post(f"{API}/txt2img", json=SMALL | {"prompt": "red barn"})).json()
    picture = image["images"][0]
    clip = await client.post(f"{API}/interrogate", json={"image": picture})
    tags = await client.post(f"{API}/interrogate", json={"image": picture, "model": "deepdanbooru"})
    unknown = await client.post(f"{API}/interrogate", json={"image": picture, "model": "blip"})
    blank = await client.post(f"{API}/interrogate", json={})
    assert "red barn" in clip.json()["caption"]
    assert tags.json() == {"caption": "red, barn"}
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "Model not found")
    # The image is decoded before the model is looked at: an empty one is a 500.
    assert (blank.status_code, blank.json()["detail"]) == (500, "Invalid encoded image")


async def test_command_routes_answer_like_a1111(client: httpx.AsyncClient) -> None:
    answers = {
        route: (await client.post(f"{API}/{route}")).json()
        for route in (
            "interrupt",
            "skip",
            "refresh-checkpoints",
            "refresh-vae",
            "refresh-embeddings",
            "refresh-loras",
            "unload-checkpoint",
            "reload-checkpoint",
        )
    }
    assert answers == {
        "interrupt": {},
        "skip": None,
        "refresh-checkpoints": None,
        "refresh-vae": None,
        "refresh-embeddings": None,
        "refresh-loras": None,
        "unload-checkpoint": {},
        "reload-checkpoint": {},
    }


async def test_after_unloading_the_next_job_loads_the_weights_first() -> None:
    async with serving(speed=4) as (sim, http):
        await http.post(f"{API}/unload-checkpoint")
        assert not sim.webui.weights_on_device
        job = asyncio.create_task(http.post(f"{API}/txt2img", json=SMALL))
        await wait_until(lambda: sim.webui.engine.busy, "the job to start")
        loading = await progress_state(http)
        await job
    # A1111's State.begin leaves job_count at -1 until the weights are in and jobs counted.
    assert loading["state"]["job_count"] == -1 and loading["progress"] == 0.01
    assert sim.webui.weights_on_device


async def test_a_webui_without_api_hides_every_sdapi_route_but_the_lora_ones() -> None:
    async with serving(api=False, auth="alice:secret") as (_sim, http):
        models = await http.get(f"{API}/sd-models")
        txt2img = await http.post(f"{API}/txt2img", json=SMALL)
        loras = await http.get(f"{API}/loras")
        sysinfo = (await http.get("/internal/sysinfo")).json()
    assert (models.status_code, models.json()) == (404, {"detail": "Not Found"})
    assert txt2img.status_code == 404
    # The Lora extension registers its routes whether or not --api was given, without auth.
    assert loras.status_code == 200
    assert "--api" not in sysinfo["Commandline"]


def test_sdnext_has_no_switch_for_its_api(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match=r"SD\.Next always serves its API"):
        SimServer(flavor="sdnext", api=False)
    assert main(["sim", "--flavor", "sdnext", "--no-api"]) == 2
    assert "SD.Next always serves its API" in capsys.readouterr().err


async def test_extras_accept_any_png(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        f"{API}/extra-single-image", json={"image": png_b64(10, 10), "upscaling_resize": 12.5}
    )
    assert answer.status_code == 200  # 1.9+ has no upper bound on the factor
