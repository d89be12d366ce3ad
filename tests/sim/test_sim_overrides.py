"""override_settings, restoring them afterwards, and when each flavor really loads a checkpoint:
as each server's `process_images` (modules/processing.py) and option setter do it."""

from __future__ import annotations

import httpx

from .helpers import API, info_of, serving

SMALL = {"prompt": "a red barn", "steps": 2, "width": 64, "height": 64}
DREAMSHAPER = "dreamshaper_8.safetensors"


async def options(http: httpx.AsyncClient) -> dict:
    return (await http.get(f"{API}/options")).json()


def with_overrides(overrides: dict, *, restore: bool) -> dict:
    return SMALL | {
        "override_settings": overrides,
        "override_settings_restore_afterwards": restore,
    }


async def test_overrides_kept_when_restoring_is_off() -> None:
    async with serving() as (sim, http):
        overrides = {"sd_model_checkpoint": DREAMSHAPER, "sd_vae": "kl-f8-anime2.ckpt"}
        info = info_of(
            await http.post(f"{API}/txt2img", json=with_overrides(overrides, restore=False))
        )
        after = await options(http)
    assert (info["sd_model_name"], info["sd_vae_name"]) == ("dreamshaper_8", "kl-f8-anime2.ckpt")
    assert after["sd_model_checkpoint"].startswith(DREAMSHAPER)
    assert after["sd_vae"] == "kl-f8-anime2.ckpt"
    assert sim.webui.loaded_checkpoint.relative_path == DREAMSHAPER


async def test_a1111_restores_the_options_but_keeps_the_checkpoint_until_the_next_job() -> None:
    async with serving() as (sim, http):
        before = (await options(http))["sd_model_checkpoint"]
        overrides = {"sd_model_checkpoint": DREAMSHAPER, "sd_vae": "kl-f8-anime2.ckpt"}
        await http.post(f"{API}/txt2img", json=with_overrides(overrides, restore=True))
        after = await options(http)
        still_loaded = sim.webui.loaded_checkpoint.relative_path
        vae_after = sim.webui.loaded_vae.name
        plain = info_of(await http.post(f"{API}/txt2img", json=SMALL))
    assert (after["sd_model_checkpoint"], after["sd_vae"]) == (before, "Automatic")
    assert still_loaded == DREAMSHAPER, "setattr(opts, ...) does not reload the checkpoint"
    assert vae_after is None, "the VAE is reloaded at once"
    assert plain["sd_model_name"] == "sd_xl_base_1.0", "the next job loads what the options name"


async def test_sdnext_reloads_the_restored_checkpoint_at_once() -> None:
    async with serving("sdnext") as (sim, http):
        before = sim.webui.loaded_checkpoint
        overrides = {"sd_model_checkpoint": DREAMSHAPER}
        await http.post(f"{API}/txt2img", json=with_overrides(overrides, restore=True))
    assert sim.webui.loaded_checkpoint is before


async def test_an_unknown_override_checkpoint_is_dropped_without_a_word() -> None:
    for flavor in ("a1111", "forge"):
        async with serving(flavor) as (_sim, http):
            overrides = {"sd_model_checkpoint": "nope.safetensors"}
            answer = await http.post(
                f"{API}/txt2img", json=with_overrides(overrides, restore=False)
            )
        assert answer.status_code == 200, flavor
        assert info_of(answer)["sd_model_name"] == "sd_xl_base_1.0", flavor


async def test_frozen_settings_ignore_overrides_and_make_the_image_with_what_is_loaded() -> None:
    async with serving(freeze_settings=True) as (_sim, http):
        overrides = {"sd_model_checkpoint": DREAMSHAPER}
        answer = await http.post(f"{API}/txt2img", json=with_overrides(overrides, restore=False))
    assert answer.status_code == 200
    assert info_of(answer)["sd_model_name"] == "sd_xl_base_1.0"


async def test_forge_stores_a_checkpoint_choice_and_loads_it_at_the_next_generation() -> None:
    async with serving("forge") as (sim, http):
        before = sim.webui.loaded_checkpoint
        answer = await http.post(f"{API}/options", json={"sd_model_checkpoint": "dreamshaper_8"})
        stored = await options(http)
        loaded_after_post = sim.webui.loaded_checkpoint
        info = info_of(await http.post(f"{API}/txt2img", json=SMALL))
    assert answer.status_code == 200
    assert loaded_after_post is before, "nothing loads on POST options"
    assert stored["sd_model_checkpoint"] == "dreamshaper_8", "kept as given"
    assert stored["sd_checkpoint_hash"] == before.sha256
    assert info["sd_model_name"] == "dreamshaper_8"


async def test_forge_load_failure_comes_back_from_the_next_generation() -> None:
    async with serving("forge") as (sim, http):
        sim.webui.unloadable.add(DREAMSHAPER)
        switched = await http.post(f"{API}/options", json={"sd_model_checkpoint": DREAMSHAPER})
        failed = await http.post(f"{API}/txt2img", json=SMALL)
        again = await http.post(f"{API}/txt2img", json=SMALL)
        stored = await options(http)
    assert switched.status_code == 200
    assert (failed.status_code, failed.json()["error"]) == (500, "ValueError")
    assert failed.json()["message"] == "Failed to recognize model type!"
    assert again.status_code == 500, "the options still name the file: every generation tries it"
    assert stored["sd_checkpoint_hash"] == sim.webui.catalog.checkpoints[0].sha256


async def test_a1111_puts_the_option_back_when_a_switch_cannot_load() -> None:
    async with serving() as (sim, http):
        before = (await options(http))["sd_model_checkpoint"]
        sim.webui.unloadable.add(DREAMSHAPER)
        answer = await http.post(f"{API}/options", json={"sd_model_checkpoint": DREAMSHAPER})
        after = await options(http)
    assert answer.status_code == 200, "Options.set reports the failure in the log only"
    assert after["sd_model_checkpoint"] == before


async def test_forge_takes_modules_by_file_name_in_overrides() -> None:
    async with serving("forge") as (sim, http):
        overrides = {"forge_additional_modules": ["sdxl_vae.safetensors", "missing.safetensors"]}
        info = info_of(
            await http.post(f"{API}/txt2img", json=with_overrides(overrides, restore=False))
        )
        stored = (await options(http))["forge_additional_modules"]
    assert "Module 1: sdxl_vae," in info["infotexts"][0]
    assert "Module 2" not in info["infotexts"][0]
    assert stored == [f"{sim.webui.flavor.install_root}/models/VAE/sdxl_vae.safetensors"]
