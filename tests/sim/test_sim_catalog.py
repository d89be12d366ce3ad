"""Each flavor answers the catalog routes and the server-detection probes like the real thing."""

from __future__ import annotations

import httpx
import pytest

from .helpers import API, serving

# route → status on (a1111, a1111-1.8, forge, sdnext)
PROBES = {
    f"{API}/schedulers": (200, 404, 200, 500),  # current SD.Next fails its own answer check
    f"{API}/sd-vae": (200, 200, 404, 200),
    f"{API}/sd-modules": (404, 404, 200, 404),
    f"{API}/version": (404, 404, 404, 200),
    f"{API}/platform": (404, 404, 404, 200),
    "/internal/sysinfo": (200, 200, 200, 404),
    f"{API}/latent-upscale-modes": (200, 200, 200, 404),
    f"{API}/hypernetworks": (200, 200, 200, 404),
    f"{API}/realesrgan-models": (200, 200, 200, 404),
}
FLAVOR_ORDER = ("a1111", "a1111-1.8", "forge", "sdnext")
COMMON_ROUTES = (
    "sd-models",
    "samplers",
    "upscalers",
    "embeddings",
    "loras",
    "options",
    "progress",
    "memory",
    "prompt-styles",
    "face-restorers",
    "scripts",
    "script-info",
    "extensions",
    "cmd-flags",
)


@pytest.mark.parametrize("flavor", FLAVOR_ORDER)
async def test_each_flavor_answers_the_probes_like_the_real_server(flavor: str) -> None:
    async with serving(flavor) as (_sim, http):
        for path, statuses in PROBES.items():
            expected = statuses[FLAVOR_ORDER.index(flavor)]
            assert (await http.get(path)).status_code == expected, path
        for route in COMMON_ROUTES:
            assert (await http.get(f"{API}/{route}")).status_code == 200, route


async def test_sysinfo_reports_the_version() -> None:
    versions = {}
    for flavor in ("a1111", "a1111-1.8", "forge"):
        async with serving(flavor) as (_sim, http):
            versions[flavor] = (await http.get("/internal/sysinfo")).json()["Version"]
    assert versions["a1111"] == "v1.10.1"
    assert versions["a1111-1.8"] == "v1.8.0"
    assert versions["forge"].startswith("f2.0.1v1.10.1-previous-")


async def test_models_carry_titles_hashes_and_some_null_hashes(client: httpx.AsyncClient) -> None:
    models = (await client.get(f"{API}/sd-models")).json()
    titles = [model["title"] for model in models]
    assert "sd_xl_base_1.0.safetensors [31e35c80fc]" in titles
    assert set(models[0]) == {"title", "model_name", "hash", "sha256", "filename", "config"}
    unhashed = [model for model in models if model["hash"] is None]
    assert unhashed and all(model["sha256"] is None for model in unhashed)
    assert all("[" not in model["title"] for model in unhashed)
    subfolder = next(model for model in models if model["title"].startswith("SDXL/"))
    assert "/" not in subfolder["model_name"]


async def test_catalog_shapes(client: httpx.AsyncClient) -> None:
    upscalers = [u["name"] for u in (await client.get(f"{API}/upscalers")).json()]
    assert {"None", "Lanczos", "Nearest", "R-ESRGAN 4x+"} <= set(upscalers)
    latent = [m["name"] for m in (await client.get(f"{API}/latent-upscale-modes")).json()]
    assert latent[0] == "Latent"
    vaes = (await client.get(f"{API}/sd-vae")).json()
    assert {"model_name": "sdxl_vae.safetensors"}.items() <= vaes[0].items()
    lora = (await client.get(f"{API}/loras")).json()[0]
    assert set(lora) == {"name", "alias", "path", "metadata"}
    embeddings = (await client.get(f"{API}/embeddings")).json()
    assert set(embeddings) == {"loaded", "skipped"}
    # An SDXL model is loaded: SD 1.5 embeddings are skipped, as the real server does.
    assert "EasyNegative" in embeddings["skipped"] and "negativeXL_D" in embeddings["loaded"]
    schedulers = (await client.get(f"{API}/schedulers")).json()
    assert {"name": "karras", "label": "Karras"}.items() <= schedulers[2].items()
    assert set(schedulers[0]) == {"name", "label", "aliases", "default_rho", "need_inner_model"}


async def test_sampler_lists_follow_each_naming_scheme() -> None:
    names = {}
    options = {}
    for flavor in FLAVOR_ORDER:
        async with serving(flavor) as (_sim, http):
            samplers = (await http.get(f"{API}/samplers")).json()
        names[flavor] = {sampler["name"] for sampler in samplers}
        options[flavor] = {s["name"]: s["options"] for s in samplers}
        keys = {"name", "options"} if flavor == "sdnext" else {"name", "aliases", "options"}
        assert all(set(sampler) == keys for sampler in samplers), flavor
    assert "DPM++ 2M Karras" in names["a1111-1.8"]
    assert "DPM++ 2M Karras" not in names["a1111"] and "DPM++ 2M" in names["a1111"]
    # SD.Next lists diffusers schedulers with their config, and not its "Default".
    assert "UniPC" in names["sdnext"] and "Default" not in names["sdnext"]
    assert options["sdnext"]["DPM++ 2M"]["solver_order"] == 2
    # A1111's response model turns option values into strings; Forge leaves them typed.
    assert options["a1111"]["DPM++ SDE"]["second_order"] == "True"
    assert options["forge"]["DPM++ SDE"]["second_order"] is True


async def test_options_are_a_realistic_settings_dict(client: httpx.AsyncClient) -> None:
    options = (await client.get(f"{API}/options")).json()
    assert options["sd_model_checkpoint"] == "sd_xl_base_1.0.safetensors [31e35c80fc]"
    assert options["sd_vae"] == "Automatic"
    assert options["CLIP_stop_at_last_layers"] == 1
    assert options["samples_format"] == "png"
    assert "show_progress_every_n_steps" in options


async def test_forge_manages_vae_through_modules() -> None:
    async with serving("forge") as (_sim, http):
        options = (await http.get(f"{API}/options")).json()
        modules = (await http.get(f"{API}/sd-modules")).json()
    assert "Forge" in options["sd_vae"]
    assert options["forge_additional_modules"] == []
    assert any(module["model_name"] == "ae.safetensors" for module in modules)


async def test_sdnext_version_and_defaults() -> None:
    async with serving("sdnext") as (_sim, http):
        version = (await http.get(f"{API}/version")).json()
        answer = await http.post(f"{API}/txt2img", json={"prompt": "x"})
    assert set(version) == {"app", "updated", "commit", "branch", "url", "kanvas", "ui"}
    assert version["app"] == "sd.next"
    parameters = answer.json()["parameters"]
    assert (parameters["steps"], parameters["width"], parameters["height"]) == (20, 1024, 1024)
