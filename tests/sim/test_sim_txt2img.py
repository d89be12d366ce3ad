"""txt2img: deterministic pictures with A1111's infotext, info and error behaviour."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from stablenew_tui.sim import SimServer
from stablenew_tui.sim.infotext import parse_infotext

from .helpers import API, decode, info_of, mean_difference, serving

INFO_KEYS = {
    "prompt", "all_prompts", "negative_prompt", "all_negative_prompts", "seed", "all_seeds",
    "subseed", "all_subseeds", "subseed_strength", "width", "height", "sampler_name", "cfg_scale",
    "steps", "batch_size", "restore_faces", "sd_model_name", "sd_model_hash", "sd_vae_name",
    "sd_vae_hash", "denoising_strength", "extra_generation_params", "index_of_first_image",
    "infotexts", "styles", "job_timestamp", "clip_skip", "version",
}  # fmt: skip
BASE = {"prompt": "a castle on a hill at sunset", "seed": 123, "steps": 20, "width": 256,
        "height": 256}  # fmt: skip


async def txt2img(client: httpx.AsyncClient, **fields: object) -> httpx.Response:
    return await client.post(f"{API}/txt2img", json=BASE | fields)


async def test_same_request_gives_the_same_png_bytes(client: httpx.AsyncClient) -> None:
    first = (await txt2img(client)).json()["images"][0]
    second = (await txt2img(client)).json()["images"][0]
    assert first == second
    assert not first.startswith("data:")
    assert base64.b64decode(first).startswith(b"\x89PNG")


async def test_different_prompts_look_different(client: httpx.AsyncClient) -> None:
    castle = decode((await txt2img(client)).json()["images"][0])
    cat = decode(
        (await txt2img(client, prompt="portrait of a cat, studio light")).json()["images"][0]
    )
    other_seed = decode((await txt2img(client, seed=124)).json()["images"][0])
    assert mean_difference(castle, cat) > 10
    assert mean_difference(castle, other_seed) > 3


async def test_png_carries_the_infotext_and_info_matches(client: httpx.AsyncClient) -> None:
    answer = await txt2img(
        client, negative_prompt="blurry", sampler_name="Euler a", scheduler="Karras"
    )
    info = info_of(answer)
    assert set(info) >= INFO_KEYS
    image = decode(answer.json()["images"][0])
    assert image.size == (256, 256)
    infotext = image.info["parameters"]
    assert infotext == info["infotexts"][0]
    assert infotext.startswith("a castle on a hill at sunset\nNegative prompt: blurry\n")
    assert (
        "Steps: 20, Sampler: Euler a, Schedule type: Karras, CFG scale: 7, Seed: 123, " in infotext
    )
    assert "Size: 256x256, Model hash: 31e35c80fc, Model: sd_xl_base_1.0" in infotext
    assert infotext.endswith("Version: v1.10.1")
    assert (info["seed"], info["sampler_name"], info["sd_model_hash"]) == (
        123,
        "Euler a",
        "31e35c80fc",
    )
    assert answer.json()["parameters"]["prompt"] == BASE["prompt"]


async def test_png_info_reads_the_infotext_back(client: httpx.AsyncClient) -> None:
    image = (await txt2img(client, negative_prompt="bad, ugly")).json()["images"][0]
    answer = (await client.post(f"{API}/png-info", json={"image": image})).json()
    assert answer["info"].startswith("a castle")
    parameters = answer["parameters"]
    assert parameters["Negative prompt"] == "bad, ugly"
    assert (parameters["Seed"], parameters["Size-1"], parameters["Size-2"]) == ("123", "256", "256")


def test_infotext_parser_handles_quoted_values() -> None:
    text = 'cat\nSteps: 20, Lora hashes: "add_detail: 7c6bad76eb54", Size: 64x32'
    parsed = parse_infotext(text)
    assert parsed["Lora hashes"] == "add_detail: 7c6bad76eb54"
    assert parsed["Prompt"] == "cat"


async def test_random_seed_is_picked_and_reported(client: httpx.AsyncClient) -> None:
    info = info_of(await txt2img(client, seed=-1))
    assert 0 <= info["seed"] < 2**32 and info["seed"] != -1
    assert f"Seed: {info['seed']}," in info["infotexts"][0]


async def test_batch_size_and_n_iter_give_one_image_each(client: httpx.AsyncClient) -> None:
    answer = await txt2img(client, batch_size=2, n_iter=3)
    info = info_of(answer)
    assert len(answer.json()["images"]) == 6
    assert info["all_seeds"] == [123, 124, 125, 126, 127, 128]
    assert len(info["infotexts"]) == 6 and "Seed: 128," in info["infotexts"][5]


async def test_grid_comes_first_when_saving_a_batch(client: httpx.AsyncClient) -> None:
    answer = await txt2img(client, batch_size=2, save_images=True)
    assert len(answer.json()["images"]) == 3
    assert info_of(answer)["index_of_first_image"] == 1
    assert decode(answer.json()["images"][0]).size == (512, 256)


async def test_unknown_fields_are_ignored_but_recorded(
    sim: SimServer, client: httpx.AsyncClient
) -> None:
    answer = await txt2img(client, cfg_scael=5, prompt="typo")
    assert answer.status_code == 200
    assert info_of(answer)["cfg_scale"] == 7
    [entry] = sim.requests.for_path("txt2img")
    assert entry.body == BASE | {"cfg_scael": 5, "prompt": "typo"}
    assert entry.ignored_fields == ["cfg_scael"]


async def test_wrong_types_get_fastapis_422(client: httpx.AsyncClient) -> None:
    answer = await txt2img(client, steps="many")
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "steps"] and {"msg", "type"} <= set(problem)


@pytest.mark.parametrize(
    ("flavor", "status", "body"),
    [
        ("a1111-1.8", 404, {"error": "HTTPException", "detail": "Sampler not found", "body": "",
                            "errors": ""}),
        ("sdnext", 404, {"error": "HTTPException", "code": 404, "detail": "Sampler not found",
                         "body": "", "errors": "404: Sampler not found"}),
    ],
)  # fmt: skip
async def test_unknown_sampler_fails_per_flavor(flavor: str, status: int, body: dict) -> None:
    async with serving(flavor) as (_sim, http):
        answer = await http.post(f"{API}/txt2img", json={"sampler_name": "Eulerr"})
    assert (answer.status_code, answer.json()) == (status, body)


@pytest.mark.parametrize("flavor", ["a1111", "forge"])
async def test_unknown_sampler_silently_becomes_the_first_one(flavor: str) -> None:
    """Since v1.9 get_sampler_and_scheduler maps an unknown name to samplers[0]."""
    async with serving(flavor) as (_sim, http):
        answer = await http.post(f"{API}/txt2img", json={"sampler_name": "Eulerr", "steps": 2})
    assert answer.status_code == 200
    info = info_of(answer)
    assert info["sampler_name"] == "DPM++ 2M"
    assert "Sampler: DPM++ 2M, Schedule type: Karras," in info["infotexts"][0]


async def test_combined_sampler_name_splits_into_a_schedule(client: httpx.AsyncClient) -> None:
    info = info_of(await txt2img(client, sampler_name="DPM++ 2M Karras"))
    assert info["sampler_name"] == "DPM++ 2M"
    assert "Sampler: DPM++ 2M, Schedule type: Karras," in info["infotexts"][0]


async def test_old_a1111_keeps_combined_names_and_has_no_schedule() -> None:
    async with serving("a1111-1.8") as (_sim, http):
        answer = await http.post(
            f"{API}/txt2img", json={"sampler_name": "DPM++ 2M Karras", "steps": 5}
        )
    infotext = info_of(answer)["infotexts"][0]
    assert "Sampler: DPM++ 2M Karras," in infotext and "Schedule type" not in infotext
    assert infotext.endswith("Version: v1.8.0")


async def test_hires_without_denoising_strength_is_a_500(client: httpx.AsyncClient) -> None:
    answer = await txt2img(client, enable_hr=True)
    assert answer.status_code == 500
    assert answer.json()["error"] == "TypeError"


async def test_hires_upscales_and_says_so(client: httpx.AsyncClient) -> None:
    answer = await txt2img(client, enable_hr=True, denoising_strength=0.4, hr_upscaler="Latent")
    assert decode(answer.json()["images"][0]).size == (512, 512)
    infotext = info_of(answer)["infotexts"][0]
    assert "Size: 256x256," in infotext
    assert (
        "Denoising strength: 0.4," in infotext
        and "Hires upscale: 2, Hires upscaler: Latent" in infotext
    )


async def test_forge_hires_needs_additional_modules() -> None:
    hires = BASE | {
        "enable_hr": True,
        "denoising_strength": 0.3,
        "hr_cfg": 7,
        "distilled_cfg_scale": 3.5,
    }
    async with serving("forge") as (sim, http):
        refused = await http.post(f"{API}/txt2img", json=hires)
        accepted = await http.post(
            f"{API}/txt2img", json=hires | {"hr_additional_modules": ["Use same choices"]}
        )
    assert refused.status_code == 500 and "detail" in refused.json()
    assert accepted.status_code == 200
    assert "Hires CFG Scale: 7" in info_of(accepted)["infotexts"][0]
    assert sim.requests[-1].ignored_fields == []


async def test_lora_tags_are_hashed_into_the_infotext(client: httpx.AsyncClient) -> None:
    info = info_of(await txt2img(client, prompt="a cat <lora:add_detail:0.8>"))
    assert 'Lora hashes: "add_detail: ' in info["infotexts"][0]
    assert "Lora hashes" in info["extra_generation_params"]


async def test_send_images_false_returns_no_images(client: httpx.AsyncClient) -> None:
    answer = await txt2img(client, send_images=False)
    assert answer.json()["images"] == [] and json.loads(answer.json()["info"])["seed"] == 123
