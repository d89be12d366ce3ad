"""The ADetailer extension as the simulator installs it on a1111 and forge: the argument shape it
reads, what it changes in the image, the infotext keys it writes, and its own routes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from PIL import ImageChops

from stablenew_tui.sim.infotext import parse_infotext

from .helpers import API, decode, info_of, png_b64, serving

INIT = png_b64(256, 320, (40, 90, 160))
FACE = {"ad_model": "face_yolov8n.pt", "ad_denoising_strength": 0.5}


async def detail(http: httpx.AsyncClient, *args: Any, **fields: Any) -> httpx.Response:
    body = {
        "prompt": "a knight", "seed": 11, "steps": 20, "width": 256, "height": 320,
        "sampler_name": "DPM++ 2M", "denoising_strength": 0.5, "init_images": [INIT],
        "alwayson_scripts": {"ADetailer": {"args": list(args)}},
    }  # fmt: skip
    return await http.post(f"{API}/img2img", json=body | fields)


async def test_skipping_img2img_changes_only_the_detected_region() -> None:
    async with serving("a1111") as (_, http):
        answer = await detail(http, True, True, FACE)
    assert answer.status_code == 200
    image = decode(answer.json()["images"][0]).convert("RGB")
    assert image.size == (256, 320), "the init image's own size, not the stand-in's"
    changed = ImageChops.difference(decode(INIT).convert("RGB"), image).getbbox()
    assert changed is not None, "the face region was redrawn"
    left, _, right, bottom = changed
    assert left > 0 and right < 256 and bottom < 320 / 2, "only around the face"
    info = info_of(answer)
    # scripts/!adetailer.py set_skip_img2img: the request's own pass is 1 step of Euler at 128².
    assert (info["steps"], info["sampler_name"], info["width"], info["height"]) == (
        1, "Euler", 128, 128,
    )  # fmt: skip
    params = parse_infotext(info["infotexts"][0])
    assert params["ADetailer model"] == "face_yolov8n.pt"
    assert params["ADetailer denoising strength"] == "0.5"
    assert params["ADetailer confidence"] == "0.3" and params["ADetailer dilate erode"] == "4"
    assert params["ADetailer inpaint only masked"] == "True"
    assert params["ADetailer version"] == "25.3.0"
    assert "ADetailer steps" not in params, "left out unless separate steps are on"
    assert answer.json()["parameters"]["steps"] == 20, "the request as sent"


async def test_a_second_table_writes_its_keys_with_2nd() -> None:
    hands = {"ad_model": "hand_yolov8n.pt", "ad_use_steps": True, "ad_steps": 9}
    async with serving("forge") as (_, http):
        answer = await detail(http, True, True, FACE, hands)
    params = parse_infotext(info_of(answer)["infotexts"][0])
    assert params["ADetailer model 2nd"] == "hand_yolov8n.pt"
    assert params["ADetailer use separate steps 2nd"] == "True"
    assert params["ADetailer steps 2nd"] == "9"


async def test_nothing_scoring_the_confidence_leaves_the_image_as_sent() -> None:
    async with serving("a1111") as (_, http):
        answer = await detail(http, True, True, FACE | {"ad_confidence": 0.95})
    image = decode(answer.json()["images"][0]).convert("RGB")
    assert ImageChops.difference(decode(INIT).convert("RGB"), image).getbbox() is None
    assert "ADetailer model: face_yolov8n.pt" in info_of(answer)["infotexts"][0]


@pytest.mark.parametrize(
    "args",
    [
        (False, True, FACE),  # switched off
        (True, True, FACE | {"ad_bogus": 1}),  # a key ADetailerArgs forbids: the table is skipped
        (True, True, {"ad_model": "None"}),  # a table without a model does nothing
    ],
    ids=["off", "unknown-key", "no-model"],
)
async def test_an_off_or_refused_table_leaves_no_trace(args) -> None:
    async with serving("a1111") as (_, http):
        answer = await detail(http, *args)
    assert answer.status_code == 200
    info = info_of(answer)
    assert "ADetailer" not in info["infotexts"][0]
    assert info["steps"] == 20, "no stand-in pass without the extension at work"


async def test_an_unknown_detection_model_fails_like_the_extension() -> None:
    async with serving("a1111") as (_, http):
        answer = await detail(http, True, True, {"ad_model": "eyes.pt"})
    assert answer.status_code == 500
    assert answer.json()["error"] == "ValueError"
    assert "[-] ADetailer: Model 'eyes.pt' not found." in answer.json()["errors"]


async def test_txt2img_details_its_own_image() -> None:
    body = {"prompt": "a knight", "seed": 3, "steps": 4, "width": 128, "height": 128}
    async with serving("a1111") as (_, http):
        plain = await http.post(f"{API}/txt2img", json=body)
        detailed = await http.post(
            f"{API}/txt2img", json=body | {"alwayson_scripts": {"adetailer": {"args": [FACE]}}}
        )
    assert plain.json()["images"] != detailed.json()["images"]
    assert info_of(detailed)["steps"] == 4


@pytest.mark.parametrize(
    ("flavor", "refusal"),
    [
        ("a1111", None),
        ("forge", None),
        ("a1111-1.8", "Script 'ADetailer' not found"),
        ("sdnext", "Always on script not found: ADetailer"),
    ],
)
async def test_the_extension_and_its_routes_only_where_installed(flavor, refusal) -> None:
    async with serving(flavor) as (_, http):
        models = await http.get("/adetailer/v1/ad_model")
        scripts = await http.get(f"{API}/scripts")
        answer = await detail(http, True, True, FACE)
    assert ("adetailer" in scripts.json()["img2img"]) is (refusal is None)
    if refusal is None:
        assert models.json()["ad_model"][:3] == [
            "face_yolov8n.pt", "face_yolov8s.pt", "hand_yolov8n.pt",
        ]  # fmt: skip
        assert answer.status_code == 200
    else:
        assert models.status_code == 404
        assert answer.status_code == 422 and refusal in answer.text


async def test_the_extensions_routes_are_outside_the_api_auth() -> None:
    async with serving("a1111", auth="u:p") as (_, http):
        assert (await http.get("/adetailer/v1/version")).json() == {"version": "25.3.0"}
        assert (await http.get(f"{API}/scripts")).status_code == 401
