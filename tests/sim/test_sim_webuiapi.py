"""The widely used `webuiapi` client, unchanged, against every flavor over real loopback HTTP.

Every call it offers that the simulator claims to support must work: a failure here is a
simulator bug. Where the real server answers something webuiapi cannot use (a route it lacks, a
204 without a body), the test asserts that real answer instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
import webuiapi
from PIL import Image

from stablenew_tui.sim import SimServer, SimThread

from .helpers import wait_until_sync

FLAVORS = ["a1111", "a1111-1.8", "forge", "sdnext"]
NOT_FOUND = {"detail": "Not Found"}
SMALL = {"width": 64, "height": 64, "steps": 4}


@pytest.fixture(params=FLAVORS)
def served(request: pytest.FixtureRequest) -> Iterator[SimThread]:
    with SimServer(flavor=request.param, speed=0).start_in_thread() as running:
        yield running


def flavor_of(running: SimThread) -> str:
    return running.server.flavor


def api_for(running: SimThread, **options: object) -> webuiapi.WebUIApi:
    return webuiapi.WebUIApi(baseurl=f"{running.url}/sdapi/v1", **options)


def txt2img(api: webuiapi.WebUIApi, **fields: object) -> webuiapi.WebUIApiResult:
    # webuiapi adds ADetailer to its `alwayson_scripts={}` default, a dict shared by every call
    # in the process; a fresh one keeps a server without ADetailer from receiving it.
    return api.txt2img(alwayson_scripts={}, **fields)


def img2img(api: webuiapi.WebUIApi, **fields: object) -> webuiapi.WebUIApiResult:
    return api.img2img(alwayson_scripts={}, **fields)


def picture(colour: tuple[int, int, int] = (200, 40, 40), size: int = 64) -> Image.Image:
    return Image.new("RGB", (size, size), colour)


def test_txt2img_with_hires(served: SimThread) -> None:
    api = api_for(served)
    if flavor_of(served) == "forge":
        # webuiapi cannot send Forge's hr_additional_modules, and Forge fails without it.
        with pytest.raises(RuntimeError) as failed:
            txt2img(api, prompt="a red barn", enable_hr=True, denoising_strength=0.5, **SMALL)
        assert failed.value.args[0] == 500
        assert "argument of type 'NoneType' is not iterable" in failed.value.args[1]
        return
    result = txt2img(
        api,
        prompt="a red barn",
        seed=7,
        enable_hr=True,
        hr_scale=2,
        denoising_strength=0.5,
        **SMALL,
    )
    assert [image.size for image in result.images] == [(128, 128)]
    assert result.info["seed"] == 7
    assert "Hires upscale: 2" in result.info["infotexts"][0]


def test_batch_size_two_by_n_iter_two(served: SimThread) -> None:
    result = txt2img(api_for(served), prompt="a kite", seed=10, batch_size=2, n_iter=2, **SMALL)
    assert len(result.images) == 4
    assert result.info["all_seeds"] == [10, 11, 12, 13]
    assert result.parameters["batch_size"] == 2


def test_img2img_with_and_without_a_mask(served: SimThread) -> None:
    api = api_for(served)
    plain = img2img(api, images=[picture()], prompt="a blue lake", seed=3, **SMALL)
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    masked = img2img(api, images=[picture()], mask_image=mask, prompt="a blue lake", **SMALL)
    assert [image.size for image in plain.images + masked.images] == [(64, 64), (64, 64)]
    assert plain.info["seed"] == 3
    bodies = [entry.body for entry in served.requests.for_path("img2img")]
    assert "mask" not in bodies[0] and bodies[1]["mask"].startswith("data:image/png;base64,")


def test_both_extras_calls(served: SimThread) -> None:
    api = api_for(served)
    single = api.extra_single_image(picture(), upscaler_1="Lanczos", upscaling_resize=2)
    batch = api.extra_batch_images(
        [picture(), picture((0, 90, 200), size=32)], upscaler_1="Nearest", upscaling_resize=3
    )
    assert single.image.size == (128, 128)
    assert "Postprocess upscaler: Lanczos" in single.info
    assert [image.size for image in batch.images] == [(192, 192), (96, 96)]


def test_every_listing_call(served: SimThread) -> None:
    api, flavor = api_for(served), flavor_of(served)
    for listing in (
        api.get_samplers,
        api.get_upscalers,
        api.get_loras,
        api.get_sd_models,
        api.get_face_restorers,
        api.get_prompt_styles,
    ):
        assert isinstance(listing(), list) and listing(), listing.__name__
    assert {"name", "path"} <= set(api.get_loras()[0])
    assert "R-ESRGAN 4x+" in [upscaler["name"] for upscaler in api.get_upscalers()]
    assert set(api.get_embeddings()) == {"loaded", "skipped"}
    assert set(api.get_memory()) == {"ram", "cuda"}
    assert isinstance(api.get_cmd_flags(), dict)
    assert api.util_get_model_names() == sorted(m["title"] for m in api.get_sd_models())
    assert "Euler a" in api.util_get_sampler_names()
    # Routes some servers never had answer FastAPI's 404, which webuiapi returns as it is.
    assert api.get_artists() == api.get_artist_categories() == NOT_FOUND
    assert (api.get_sd_vae() == NOT_FOUND) == (flavor == "forge")
    for a1111_only in (api.get_latent_upscale_modes, api.get_hypernetworks):
        assert (a1111_only() == NOT_FOUND) == (flavor == "sdnext"), a1111_only.__name__
    realesrgan = api.get_realesrgan_models()
    if flavor == "sdnext":
        assert realesrgan == NOT_FOUND
    else:
        assert set(realesrgan[0]) == {"name", "path", "scale"}
    schedulers = api.get_schedulers()
    if flavor in ("a1111", "forge"):
        assert "karras" in api.util_get_scheduler_names()
    elif flavor == "a1111-1.8":
        assert schedulers == NOT_FOUND  # schedulers came in 1.9
    else:
        # Current SD.Next fails its own response check on the rows without a class.
        assert (schedulers["error"], schedulers["code"]) == ("ResponseValidationError", 500)


def test_options_get_set_and_util_set_model(served: SimThread) -> None:
    api, flavor = api_for(served), flavor_of(served)
    answer = api.set_options({"CLIP_stop_at_last_layers": 2})
    if flavor == "sdnext":
        assert answer == {"updated": [{"CLIP_stop_at_last_layers": True}]}
    else:
        assert answer is None
    assert api.get_options()["CLIP_stop_at_last_layers"] == 2
    api.util_set_model("dreamshaper_8")
    wanted = next(m["title"] for m in api.get_sd_models() if "dreamshaper_8" in m["title"])
    assert api.util_get_current_model() == wanted


def test_png_info_reads_back_what_txt2img_wrote(served: SimThread) -> None:
    api = api_for(served)
    if flavor_of(served) == "sdnext":
        # webuiapi sends png-info a PNG re-encoding that keeps only text items; SD.Next's
        # default JPEG holds its infotext in EXIF, which that drops.
        api.set_options({"samples_format": "png"})
    image = txt2img(api, prompt="a quiet harbour", seed=21, **SMALL).image
    result = api.png_info(image)
    assert result.info.startswith("a quiet harbour\n")
    assert result.parameters["Seed"] == "21"


def test_interrogate(served: SimThread) -> None:
    api = api_for(served)
    image = txt2img(api, prompt="lighthouse storm", **SMALL).image
    if flavor_of(served) == "sdnext":
        with pytest.raises(RuntimeError) as missing:  # SD.Next captions under other routes
            api.interrogate(image)
        assert missing.value.args[0] == 404
        return
    assert "lighthouse storm" in api.interrogate(image).info
    assert api.interrogate(image, model="deepdanbooru").info == "lighthouse, storm"
    with pytest.raises(RuntimeError) as unknown:
        api.interrogate(image, model="blip2")
    assert unknown.value.args[0] == 404


def test_idle_progress_interrupt_skip_and_refresh(served: SimThread) -> None:
    api = api_for(served)
    progress = api.get_progress()
    assert (progress["progress"], progress["state"]["job_count"]) == (0, 0)
    api.util_wait_for_ready(check_interval=0.01)  # returns at once on an idle server
    if flavor_of(served) != "sdnext":
        assert progress["state"]["stopping_generation"] is False
        assert api.interrupt() == {}
        assert api.skip() is None
        assert api.refresh_checkpoints() is None
        return
    assert "stopping_generation" not in progress["state"] and "id" in progress
    # SD.Next answers these with 204 and no body, which webuiapi tries to read as JSON.
    for call, route in ((api.interrupt, "interrupt"), (api.skip, "skip")):
        with pytest.raises(requests.JSONDecodeError):
            call()
        answer = requests.post(f"{served.url}/sdapi/v1/{route}", timeout=10)
        assert (answer.status_code, answer.content) == (204, b"")
    with pytest.raises(requests.JSONDecodeError):
        api.refresh_checkpoints()


@pytest.mark.parametrize("flavor", FLAVORS)
def test_progress_and_interrupt_while_a_job_runs(flavor: str) -> None:
    with SimServer(flavor=flavor, speed=4).start_in_thread() as running:
        api = api_for(running)
        results: list[webuiapi.WebUIApiResult] = []
        job = threading.Thread(
            target=lambda: results.append(
                txt2img(api, prompt="a lighthouse", steps=2000, width=512, height=512)
            )
        )
        job.start()
        wait_until_sync(lambda: api.get_progress()["state"]["sampling_step"] >= 20, "sampling")
        running_progress = api.get_progress()
        if flavor == "sdnext":
            with pytest.raises(requests.JSONDecodeError):  # 204, see above
                api.interrupt()
        else:
            api.interrupt()
        job.join(timeout=30)
    assert 0 < running_progress["progress"] < 1
    assert running_progress["state"]["sampling_steps"] == 2000
    # A1111 returns the half-sampled image; SD.Next drops the pass it stopped.
    assert len(results[0].images) == (0 if flavor == "sdnext" else 1)


def test_scripts_and_prompt_styles(served: SimThread) -> None:
    api, flavor = api_for(served), flavor_of(served)
    scripts = api.get_scripts()
    assert "x/y/z plot" in scripts["txt2img"] or "xyz grid script" in scripts["txt2img"]
    # webuiapi detects ADetailer from the script list, then sends it with every generation.
    assert api.has_adetailer == (flavor in ("a1111", "forge"))
    styled = txt2img(api, prompt="a cat", styles=["Cinematic"], **SMALL)
    assert styled.info["prompt"].startswith("cinematic still of a cat,")
    detailer = [webuiapi.ADetailer(ad_model="face_yolov8n.pt")]
    if api.has_adetailer:
        assert len(txt2img(api, prompt="a face", adetailer=detailer, **SMALL).images) == 1
        return
    with pytest.raises(RuntimeError) as refused:
        txt2img(api, prompt="a face", adetailer=detailer, **SMALL)
    assert refused.value.args[0] == 422
    missing = "Always on script not found" if flavor == "sdnext" else "Script 'ADetailer' not"
    assert missing in refused.value.args[1]


@pytest.mark.parametrize("flavor", FLAVORS)
def test_credentials_are_needed_and_enough(flavor: str) -> None:
    with SimServer(flavor=flavor, speed=0, auth="alice:secret").start_in_thread() as running:
        anonymous = api_for(running)
        signed_in = api_for(running, username="alice", password="secret")
        assert anonymous.get_sd_models()["detail"] == "Not authenticated"
        assert signed_in.get_sd_models()
        assert txt2img(signed_in, prompt="a gate", **SMALL).images
