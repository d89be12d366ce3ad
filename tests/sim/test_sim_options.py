"""Options: switching model and VAE, by any name the WebUI accepts, and what jobs then report."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from .helpers import API, info_of, serving, wait_until

SMALL = {"prompt": "a red barn", "steps": 5, "width": 64, "height": 64}


async def current_model(http: httpx.AsyncClient) -> str:
    return (await http.get(f"{API}/options")).json()["sd_model_checkpoint"]


async def test_checkpoint_can_be_named_by_title_model_name_or_hash(
    client: httpx.AsyncClient,
) -> None:
    models = {m["model_name"]: m for m in (await client.get(f"{API}/sd-models")).json()}
    dreamshaper = models["dreamshaper_8"]
    for name in (dreamshaper["title"], "v1-5-pruned-emaonly", models["sd_xl_refiner_1.0"]["hash"]):
        answer = await client.post(f"{API}/options", json={"sd_model_checkpoint": name})
        assert (answer.status_code, answer.json()) == (200, None)
    assert await current_model(client) == models["sd_xl_refiner_1.0"]["title"]
    info = info_of(await client.post(f"{API}/txt2img", json=SMALL))
    assert info["sd_model_name"] == "sd_xl_refiner_1.0"


async def test_unknown_checkpoint_is_a_runtime_error(client: httpx.AsyncClient) -> None:
    answer = await client.post(f"{API}/options", json={"sd_model_checkpoint": "nope.ckpt"})
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "RuntimeError",
        "detail": "",
        "body": "",
        "errors": "model 'nope.ckpt' not found",
    }


async def test_a_checkpoint_gets_its_hash_when_first_loaded(client: httpx.AsyncClient) -> None:
    name = "realisticVisionV60B1_v51HyperVAE"

    async def model() -> dict:
        return next(
            m for m in (await client.get(f"{API}/sd-models")).json() if m["model_name"] == name
        )

    assert (await model())["hash"] is None
    await client.post(f"{API}/options", json={"sd_model_checkpoint": name})
    loaded = await model()
    assert loaded["hash"] and loaded["title"] == f"{name}.safetensors [{loaded['hash']}]"
    assert await current_model(client) == loaded["title"]


async def test_vae_choice_shows_in_the_infotext(client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/options", json={"sd_vae": "sdxl_vae.safetensors"})
    info = info_of(await client.post(f"{API}/txt2img", json=SMALL))
    assert "VAE hash: 235745af8d, VAE: sdxl_vae.safetensors" in info["infotexts"][0]
    assert (info["sd_vae_name"], info["sd_vae_hash"]) == ("sdxl_vae.safetensors", "235745af8d")


async def test_forge_takes_its_vae_from_additional_modules() -> None:
    async with serving("forge") as (sim, http):
        vae = next(path for path in sim.webui.catalog.modules if path.endswith("/ae.safetensors"))
        await http.post(f"{API}/options", json={"forge_additional_modules": [vae]})
        info = info_of(await http.post(f"{API}/txt2img", json=SMALL))
    # Forge never fills sd_vae_name: its infotext names the modules instead.
    assert (info["sd_vae_name"], info["sd_vae_hash"]) == (None, None)
    assert "Module 1: ae" in info["infotexts"][0] and "VAE" not in info["infotexts"][0]


async def test_override_settings_apply_to_one_job_only(client: httpx.AsyncClient) -> None:
    before = await current_model(client)
    overrides = {"sd_model_checkpoint": "dreamshaper_8", "CLIP_stop_at_last_layers": 2}
    answer = await client.post(f"{API}/txt2img", json=SMALL | {"override_settings": overrides})
    info = info_of(answer)
    assert (info["sd_model_name"], info["clip_skip"]) == ("dreamshaper_8", 2)
    assert "Clip skip: 2" in info["infotexts"][0]
    assert await current_model(client) == before


async def test_a_model_switch_holds_the_queue_until_loaded() -> None:
    async with serving(speed=4) as (sim, http):
        switch = asyncio.create_task(
            http.post(f"{API}/options", json={"sd_model_checkpoint": "v1-5-pruned-emaonly"})
        )
        await wait_until(lambda: sim.webui.engine.busy, "the switch to take the queue")
        job = await http.post(f"{API}/txt2img", json=SMALL)
        assert (await switch).status_code == 200
    # The job queued behind the switch, so it ran on the new model.
    assert info_of(job)["sd_model_name"] == "v1-5-pruned-emaonly"


@pytest.mark.parametrize(
    ("flavor", "body"),
    [
        ("a1111", {"error": "KeyError", "detail": "", "body": "", "errors": "'no_such_key'"}),
        ("forge", {"error": "KeyError", "detail": "", "body": "", "message": "'no_such_key'"}),
    ],
)
async def test_an_unknown_option_is_a_key_error_after_the_keys_before_it(
    flavor: str, body: dict
) -> None:
    async with serving(flavor) as (sim, http):
        answer = await http.post(
            f"{API}/options",
            json={"CLIP_stop_at_last_layers": 3, "no_such_key": 1, "samples_save": False},
        )
        unchanged_unknown = await http.post(f"{API}/options", json={"no_such_key": None})
    assert (answer.status_code, answer.json()) == (500, body)
    # `Options.set` ran key by key: the one before the unknown key stuck, the one after did not.
    assert sim.options["CLIP_stop_at_last_layers"] == 3 and sim.options["samples_save"] is True
    # A value equal to the current one (None for an unknown key) is skipped before the lookup.
    assert unchanged_unknown.status_code == 200


async def test_forge_checks_the_checkpoint_when_its_turn_comes() -> None:
    async with serving("forge") as (sim, http):
        answer = await http.post(
            f"{API}/options", json={"CLIP_stop_at_last_layers": 2, "sd_model_checkpoint": "nope"}
        )
    assert answer.status_code == 500 and answer.json()["message"] == "model 'nope' not found"
    assert sim.options["CLIP_stop_at_last_layers"] == 2
