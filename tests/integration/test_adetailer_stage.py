"""The ADetailer stage end to end: offered where the node has the extension, refused by name
where it has not, sent as the extension reads it, checked by what it reports."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from stablenew_tui.webui.infotext import infotext_parameters
from stablenew_tui.webui.resources import fetch_catalog
from tests.integration.conftest import client_for
from tests.integration.pipeline_helpers import launcher_for, manifest, posted, run_to_end

FLAGS = {
    "stages": ["txt2img", "adetailer", "upscale"],
    "txt2img": {"model": "dreamshaper_8", "steps": 3, "width": 192, "height": 256, "seed": 9},
    "adetailer": {"model": "face_yolov8n.pt", "denoise": 0.45, "dilation": 6, "steps": 8,
                  "prompt": "a stern face"},
    "upscale": {"upscaler": "Lanczos", "scale": 2.0},
}  # fmt: skip


@pytest.mark.parametrize("flavor", ["a1111", "forge"])
async def test_adetailer_redraws_the_face_between_txt2img_and_upscale(flavor):
    async with SimServer(flavor=flavor, speed=0) as sim:
        launcher = launcher_for(sim.url)
        try:
            request = RunRequest(prompt="a knight in armour", flags=FLAGS)
            prepared, summary, _ = await run_to_end(launcher, request)
        finally:
            await launcher.aclose()
        (body,) = posted(sim, "img2img")
        (extras,) = posted(sim, "extra-single-image")
    assert summary.counts == {"done": 1}
    assert body["alwayson_scripts"] == {
        "ADetailer": {
            "args": [True, True, {
                "ad_model": "face_yolov8n.pt", "ad_confidence": 0.3, "ad_dilate_erode": 6,
                "ad_mask_blur": 4, "ad_denoising_strength": 0.45, "ad_prompt": "a stern face",
                "ad_use_steps": True, "ad_steps": 8,
            }]
        }
    }  # fmt: skip
    assert (body["width"], body["height"], body["steps"]) == (192, 256, 3)
    assert body["override_settings"]["sd_model_checkpoint"] == "dreamshaper_8"
    assert body["prompt"] == "a knight in armour" and len(body["init_images"]) == 1

    folder = Path(prepared.run.folder)
    made = {line["stage"]: line for line in manifest(folder)}
    assert list(made) == ["txt2img", "adetailer", "upscale"]
    detail = made["adetailer"]
    assert detail["unverified"] == ["sampler", "size"], "the stand-in pass says nothing of them"
    reported = infotext_parameters(detail["infotext"])
    assert reported["ADetailer model"] == "face_yolov8n.pt"
    assert reported["ADetailer prompt"] == "a stern face"
    before = Image.open(folder / made["txt2img"]["path"]).convert("RGB")
    after = Image.open(folder / detail["path"]).convert("RGB")
    assert after.size == before.size
    changed = ImageChops.difference(before, after).getbbox()
    assert changed is not None and changed != (0, 0, 192, 256), "the face, not the whole image"
    # The upscale starts from the detailed image.
    upscaled_from = hashlib.sha256(base64.b64decode(extras["image"])).hexdigest()
    assert upscaled_from == detail["sha256"]


@pytest.mark.parametrize("flavor", ["a1111-1.8", "sdnext"])
async def test_a_node_without_the_extension_refuses_the_stage_by_name(flavor):
    async with SimServer(flavor=flavor, speed=0) as sim:
        launcher = launcher_for(sim.url)
        try:
            with pytest.raises(InputError) as refused:
                await launcher.prepare(RunRequest(prompt="a knight", flags=FLAGS))
        finally:
            await launcher.aclose()
        assert posted(sim, "txt2img") == [], "nothing sent"
    assert str(refused.value) == (
        "adetailer: node0 does not have the ADetailer extension (its img2img scripts do not "
        "list it); install it there, or leave the adetailer stage out"
    )


@pytest.mark.parametrize(("flavor", "offered"), [("a1111", True), ("sdnext", False)])
async def test_the_catalog_lists_the_detection_models_where_installed(flavor, offered):
    async with SimServer(flavor=flavor, speed=0) as sim:
        client = client_for(sim.url)
        try:
            catalog = await fetch_catalog(client)
        finally:
            await client.aclose()
    assert ("face_yolov8n.pt" in catalog.adetailer_models) is offered
    assert ("adetailer" in catalog.scripts.img2img) is offered


async def test_an_unknown_detection_model_is_refused_before_anything_is_sent(sim):
    launcher = launcher_for(sim.url)
    flags = FLAGS | {"adetailer": {"model": "face_yolov9.pt"}}
    try:
        with pytest.raises(InputError, match=r"adetailer\.model: node0 has no 'face_yolov9\.pt'"):
            await launcher.prepare(RunRequest(prompt="a knight", flags=flags))
    finally:
        await launcher.aclose()
