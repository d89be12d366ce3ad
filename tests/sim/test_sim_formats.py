"""The simulator answers in the `samples_format` of the moment, infotext where readers look."""

from __future__ import annotations

import asyncio
import base64
import io

import httpx
import pytest
from PIL import Image

from tests.image_metadata import PILLOW_NAMES, SIGNATURES, pillow_infotext, webui_infotext

from .helpers import API, info_of, progress_state, serving, wait_until

BASE = {"prompt": "a castle on a hill, at dusk", "seed": 7, "steps": 4, "width": 96, "height": 64}
# samples_format as set in the options → the file format it gives.
FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "webp": "webp", "JPG": "jpeg"}


def _bytes(encoded: str) -> bytes:
    return base64.b64decode(encoded)


def _format_of(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as image:
        return image.format or ""


async def _set(http: httpx.AsyncClient, **options: object) -> None:
    (await http.post(f"{API}/options", json=options)).raise_for_status()


@pytest.mark.parametrize("samples_format", list(FORMATS))
async def test_every_answer_is_in_the_format_set_with_its_infotext(samples_format: str) -> None:
    expected = FORMATS[samples_format]
    async with serving() as (_sim, http):
        await _set(http, samples_format=samples_format)
        txt2img = await http.post(f"{API}/txt2img", json=BASE)
        made = _bytes(txt2img.json()["images"][0])
        infotext = info_of(txt2img)["infotexts"][0]
        img2img = await http.post(
            f"{API}/img2img", json=BASE | {"init_images": [txt2img.json()["images"][0]]}
        )
        extras = await http.post(
            f"{API}/extra-single-image",
            json={"image": img2img.json()["images"][0], "upscaler_1": "Lanczos"},
        )
    img2img_bytes = _bytes(img2img.json()["images"][0])
    upscaled = _bytes(extras.json()["image"])
    for data in (made, img2img_bytes, upscaled):
        assert data.startswith(SIGNATURES[expected])
        assert _format_of(data) == PILLOW_NAMES[expected]
    assert infotext.startswith("a castle on a hill, at dusk\nSteps: 4")
    # Pillow alone and the WebUIs' own reader both find it, in every format.
    assert pillow_infotext(made) == webui_infotext(made) == infotext
    img2img_text = info_of(img2img)["infotexts"][0]
    assert pillow_infotext(img2img_bytes) == webui_infotext(img2img_bytes) == img2img_text
    # Extras keeps the source's infotext, read from its PNG chunk or EXIF.
    assert webui_infotext(upscaled) == img2img_text
    with Image.open(io.BytesIO(upscaled)) as image:
        assert image.size == (192, 128)


async def test_png_info_reads_the_infotext_out_of_jpeg_and_webp() -> None:
    async with serving() as (_sim, http):
        for samples_format in ("jpg", "webp"):
            await _set(http, samples_format=samples_format)
            answer = await http.post(f"{API}/txt2img", json=BASE | {"negative_prompt": "fog"})
            image = answer.json()["images"][0]
            read = (await http.post(f"{API}/png-info", json={"image": image})).json()
            assert read["info"] == info_of(answer)["infotexts"][0]
            assert read["parameters"]["Negative prompt"] == "fog"
            assert "exif" not in read["items"]


async def test_sdnext_answers_jpeg_out_of_the_box() -> None:
    async with serving("sdnext") as (_sim, http):
        options = (await http.get(f"{API}/options")).json()
        answer = await http.post(f"{API}/txt2img", json=BASE)
    assert (options["samples_format"], options["jpeg_quality"]) == ("jpg", 90)
    data = _bytes(answer.json()["images"][0])
    assert _format_of(data) == "JPEG"
    assert pillow_infotext(data) == info_of(answer)["infotexts"][0]


async def test_quality_follows_jpeg_quality() -> None:
    async with serving() as (_sim, http):
        sizes = []
        for quality in (20, 95):
            await _set(http, samples_format="jpg", jpeg_quality=quality)
            answer = await http.post(f"{API}/txt2img", json=BASE | {"width": 256, "height": 256})
            sizes.append(len(_bytes(answer.json()["images"][0])))
    assert sizes[0] < sizes[1]


@pytest.mark.parametrize(("flavor", "lossless"), [("sdnext", True), ("a1111", False)])
async def test_webp_lossless_is_honoured_only_by_sdnext(flavor: str, lossless: bool) -> None:
    async with serving(flavor) as (_sim, http):
        await _set(http, samples_format="webp", webp_lossless=True)
        answer = await http.post(f"{API}/txt2img", json=BASE)
    data = _bytes(answer.json()["images"][0])
    assert (b"VP8L" in data) is lossless


async def test_a_grid_and_images_without_pnginfo_carry_an_empty_comment() -> None:
    async with serving() as (_sim, http):
        await _set(http, samples_format="webp", enable_pnginfo=False)
        body = BASE | {"batch_size": 2, "save_images": True}
        answer = await http.post(f"{API}/txt2img", json=body)
    images = [_bytes(image) for image in answer.json()["images"]]
    assert len(images) == 3, "grid first, then the two images"
    assert [pillow_infotext(data) for data in images] == ["", "", ""]


async def test_an_unknown_format_fails_the_answer_like_a1111() -> None:
    async with serving() as (_sim, http):
        await _set(http, samples_format="gif")
        answer = await http.post(f"{API}/txt2img", json=BASE)
    assert answer.status_code == 500
    assert answer.json()["detail"] == "Invalid image format"


@pytest.mark.parametrize(("restore", "expected"), [(True, "PNG"), (False, "WEBP")])
async def test_an_overridden_format_shows_only_when_it_is_kept(restore: bool, expected: str):
    """The servers encode the answer after putting overridden options back."""
    body = BASE | {
        "override_settings": {"samples_format": "webp"},
        "override_settings_restore_afterwards": restore,
    }
    async with serving() as (sim, http):
        answer = await http.post(f"{API}/txt2img", json=body)
        after = sim.options["samples_format"]
    assert _format_of(_bytes(answer.json()["images"][0])) == expected
    assert after == ("png" if restore else "webp")


async def test_the_live_preview_comes_in_the_samples_format() -> None:
    async with serving(speed=4.0, preview=True) as (_sim, http):
        await _set(http, samples_format="jpg", show_progress_every_n_steps=2)
        job = asyncio.create_task(
            http.post(f"{API}/txt2img", json=BASE | {"steps": 2000, "width": 512, "height": 512})
        )

        async def previewing() -> bool:
            return bool((await progress_state(http)).get("current_image"))

        await wait_until(previewing, "a live preview")
        preview = (await progress_state(http))["current_image"]
        await http.post(f"{API}/interrupt")
        await job
    assert _format_of(_bytes(preview)) == "JPEG"
