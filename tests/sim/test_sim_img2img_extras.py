"""img2img really transforms its init image; extras really resize; bad images fail like A1111."""

from __future__ import annotations

import httpx
import pytest

from .helpers import API, decode, info_of, mean_difference, png_b64, serving

RED = png_b64(300, 200, (200, 40, 40))
SMALL = png_b64(8, 8)


async def img2img(client: httpx.AsyncClient, **fields: object) -> httpx.Response:
    body = {"prompt": "a blue lake", "seed": 5, "steps": 20, "width": 128, "height": 96}
    return await client.post(f"{API}/img2img", json=body | {"init_images": [RED]} | fields)


async def test_img2img_resizes_and_blends_by_denoising_strength(client: httpx.AsyncClient) -> None:
    light = await img2img(client, denoising_strength=0.2)
    heavy = await img2img(client, denoising_strength=0.9)
    red = decode(RED)
    light_image, heavy_image = decode(light.json()["images"][0]), decode(heavy.json()["images"][0])
    assert light_image.size == heavy_image.size == (128, 96)
    assert mean_difference(red, light_image) < mean_difference(red, heavy_image)
    assert mean_difference(red, light_image) > 1
    infotext = info_of(heavy)["infotexts"][0]
    assert "Denoising strength: 0.9," in infotext and "Size: 128x96," in infotext
    # The init images are not echoed back unless asked for.
    assert heavy.json()["parameters"]["init_images"] is None


async def test_img2img_is_deterministic(client: httpx.AsyncClient) -> None:
    first, second = await img2img(client), await img2img(client)
    assert first.json()["images"] == second.json()["images"]


async def test_img2img_without_init_images_is_404(client: httpx.AsyncClient) -> None:
    answer = await client.post(f"{API}/img2img", json={"prompt": "x"})
    assert answer.status_code == 404
    assert answer.json()["detail"] == "Init image not found"


async def test_bad_base64_is_a_500_invalid_encoded_image(client: httpx.AsyncClient) -> None:
    answer = await img2img(client, init_images=["not an image"])
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "HTTPException",
        "detail": "Invalid encoded image",
        "body": "",
        "errors": "",  # Starlette 0.26: an HTTPException raised with keywords has no str()
    }


async def test_data_urls_are_accepted(client: httpx.AsyncClient) -> None:
    answer = await img2img(client, init_images=[f"data:image/png;base64,{RED}"])
    assert answer.status_code == 200


async def test_extras_single_image_upscales_by_a_factor(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        f"{API}/extra-single-image",
        json={"image": RED, "upscaling_resize": 2, "upscaler_1": "R-ESRGAN 4x+"},
    )
    body = answer.json()
    assert decode(body["image"]).size == (600, 400)
    assert (
        body["html_info"] == "<p>Postprocess upscale by: 2, Postprocess upscaler: R-ESRGAN 4x+</p>"
    )


async def test_extras_resize_to_a_size_keeps_the_source_infotext(client: httpx.AsyncClient) -> None:
    txt2img = await client.post(
        f"{API}/txt2img", json={"prompt": "a fox", "width": 128, "height": 128, "steps": 4}
    )
    source = txt2img.json()["images"][0]
    answer = await client.post(
        f"{API}/extra-single-image",
        json={
            "image": source,
            "resize_mode": 1,
            "upscaling_resize_w": 300,
            "upscaling_resize_h": 200,
            "upscaler_1": "Lanczos",
        },
    )
    result = decode(answer.json()["image"])
    assert result.size == (300, 200)
    assert result.info["parameters"] == info_of(txt2img)["infotexts"][0]
    assert result.info["postprocessing"].startswith("Postprocess upscale to: 300x200")


async def test_upscaler_none_leaves_the_image_alone(client: httpx.AsyncClient) -> None:
    answer = await client.post(f"{API}/extra-single-image", json={"image": RED})
    assert decode(answer.json()["image"]).size == (300, 200)


async def test_unknown_upscaler_is_an_assertion_error(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        f"{API}/extra-single-image", json={"image": RED, "upscaler_1": "Magic 16x"}
    )
    assert answer.status_code == 500
    assert answer.json()["error"] == "AssertionError"


async def test_extras_batch_resizes_every_image(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        f"{API}/extra-batch-images",
        json={
            "imageList": [{"data": RED, "name": "a.png"}, {"data": png_b64(50, 50), "name": "b"}],
            "upscaling_resize": 3,
            "upscaler_1": "Nearest",
        },
    )
    sizes = [decode(image).size for image in answer.json()["images"]]
    assert sizes == [(900, 600), (150, 150)]


async def test_extras_validate_their_fields(client: httpx.AsyncClient) -> None:
    missing_list = await client.post(f"{API}/extra-batch-images", json={})
    assert missing_list.status_code == 422
    # pydantic 1's words, as A1111's FastAPI 0.94 answers.
    assert missing_list.json() == {
        "detail": [{"loc": ["body", "imageList"], "msg": "field required",
                    "type": "value_error.missing"}]
    }  # fmt: skip


@pytest.mark.parametrize(
    ("flavor", "accepted"),
    [("a1111", True), ("forge", True), ("a1111-1.8", False), ("sdnext", False)],
)
async def test_upscale_factor_bounds_per_release(flavor: str, accepted: bool) -> None:
    """1.9 loosened `upscaling_resize` from 1..8 to any positive factor; SD.Next kept 1..8."""
    async with serving(flavor) as (_sim, http):
        big = await http.post(
            f"{API}/extra-single-image", json={"image": SMALL, "upscaling_resize": 9}
        )
        zero = await http.post(
            f"{API}/extra-single-image", json={"image": SMALL, "upscaling_resize": 0}
        )
    assert big.status_code == (200 if accepted else 422)
    assert zero.status_code == 422
    if flavor == "a1111-1.8":
        [problem] = big.json()["detail"]
        assert problem == {
            "loc": ["body", "upscaling_resize"],
            "msg": "ensure this value is less than or equal to 8",
            "type": "value_error.number.not_le",
            "ctx": {"limit_value": 8},
        }
