"""Request bodies: strict, server-aware, and valid against a real A1111 OpenAPI schema.

Every body the client can build is checked: generation bodies (with override settings and
alwayson scripts), extras by factor and to a target size, the bodies the pipeline builds from
settings with every stage and option on, and the option changes the client posts.
"""

import json

import jsonschema
import pytest

from stablenew_tui.pipeline.jobs import Job, PromptSpec
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.pipeline.stage_requests import (
    img2img_request,
    txt2img_request,
    upscale_request,
)
from stablenew_tui.webui.models import ServerInfo
from stablenew_tui.webui.requests import (
    FORGE_ONLY_FIELDS,
    SCHEDULER_FIELDS,
    ExtrasBatchRequest,
    ExtrasRequest,
    Img2ImgRequest,
    Txt2ImgRequest,
    payload_for,
)
from tests.conftest import TEST_DATA

A1111_1_6 = ServerInfo(flavor="a1111", version="v1.6.0", supports_scheduler=False)
A1111_1_10 = ServerInfo(flavor="a1111", version="v1.10.1", supports_scheduler=True)
FORGE = ServerInfo(flavor="forge", version="f2.0.1v1.10.1", supports_scheduler=True)
SDNEXT = ServerInfo(flavor="sdnext", version="2024-11-01", supports_scheduler=False)
SERVERS = [A1111_1_6, A1111_1_10, FORGE, SDNEXT]

# Everything a user can set, so the contract covers every field the client can send.
FULL_TXT2IMG = Txt2ImgRequest(
    prompt="a lighthouse at dusk, <lora:film:0.6>",
    negative_prompt="blurry",
    styles=["cinematic"],
    seed=1234,
    subseed=99,
    subseed_strength=0.2,
    sampler_name="DPM++ 2M",
    scheduler="karras",
    steps=28,
    cfg_scale=6.5,
    distilled_cfg_scale=3.5,
    width=832,
    height=1216,
    restore_faces=False,
    tiling=False,
    override_settings={
        "sd_model_checkpoint": "v1-5-pruned-emaonly.safetensors [6ce0161689]",
        "sd_vae": "vae-ft-mse-840000-ema-pruned.safetensors",
        "CLIP_stop_at_last_layers": 2,
    },
    override_settings_restore_afterwards=False,
    refiner_checkpoint="sd_xl_refiner_1.0.safetensors",
    refiner_switch_at=0.8,
    enable_hr=True,
    hr_scale=1.5,
    hr_upscaler="R-ESRGAN 4x+",
    hr_second_pass_steps=10,
    hr_resize_x=0,
    hr_resize_y=0,
    hr_sampler_name="Euler a",
    hr_scheduler="exponential",
    hr_checkpoint_name="Use same checkpoint",
    hr_prompt="",
    hr_negative_prompt="",
    alwayson_scripts={
        "ADetailer": {"args": [True, False, {"ad_model": "face_yolov8n.pt"}]},
        "ControlNet": {"args": [{"enabled": True, "module": "canny", "weight": 1.0}]},
    },
)
FULL_IMG2IMG = Img2ImgRequest(
    prompt="a lighthouse",
    init_images=["iVBORw0KGgo="],
    denoising_strength=0.4,
    resize_mode=1,
    sampler_name="Euler a",
    scheduler="automatic",
    steps=20,
    cfg_scale=7,
    width=512,
    height=512,
    image_cfg_scale=1.5,
    include_init_images=False,
)
FULL_EXTRAS = ExtrasRequest(
    image="iVBORw0KGgo=",
    resize_mode=0,
    upscaling_resize=2.0,
    upscaling_crop=True,
    upscaler_1="R-ESRGAN 4x+",
    upscaler_2="Lanczos",
    extras_upscaler_2_visibility=0.3,
    gfpgan_visibility=0.0,
    codeformer_visibility=0.5,
    codeformer_weight=0.7,
    upscale_first=False,
)
FULL_EXTRAS_TO_SIZE = ExtrasRequest(
    image="iVBORw0KGgo=",
    resize_mode=1,
    upscaling_resize_w=2048,
    upscaling_resize_h=1536,
    upscaling_crop=True,
    upscaler_1="R-ESRGAN 4x+",
)
FULL_EXTRAS_BATCH = ExtrasBatchRequest(
    imageList=[{"data": "iVBORw0KGgo=", "name": "a.png"}], upscaler_1="Lanczos"
)
REQUESTS = [
    ("StableDiffusionProcessingTxt2Img", FULL_TXT2IMG),
    ("StableDiffusionProcessingImg2Img", FULL_IMG2IMG),
    ("ExtrasSingleImageRequest", FULL_EXTRAS),
    ("ExtrasSingleImageRequest", FULL_EXTRAS_TO_SIZE),
    ("ExtrasBatchImagesRequest", FULL_EXTRAS_BATCH),
]
SCHEMA_OF = {
    Txt2ImgRequest: "StableDiffusionProcessingTxt2Img",
    Img2ImgRequest: "StableDiffusionProcessingImg2Img",
    ExtrasRequest: "ExtrasSingleImageRequest",
}
# What the servers read from `alwayson_scripts`: {title: {"args": [...]}}, by position
# (A1111/Forge modules/api/api.py init_script_args; SD.Next modules/api/script.py).
ALWAYSON_SCRIPTS = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "properties": {"args": {"type": "array"}},
        "required": ["args"],
    },
}
# Options only Forge has (modules/sysinfo.py set_config): VAE and text encoders by file.
FORGE_ONLY_OPTIONS = frozenset({"forge_additional_modules"})


@pytest.fixture(scope="module")
def openapi() -> dict:
    return json.loads((TEST_DATA / "a1111-openapi-v1.6.json").read_text())


def _later_fields(server: ServerInfo) -> frozenset[str]:
    """Fields newer than the v1.6 schema that this server is known to accept."""
    later = frozenset()
    if server.supports_scheduler:
        later |= SCHEDULER_FIELDS
    if server.flavor == "forge":
        later |= FORGE_ONLY_FIELDS
    return later


def _check_body(openapi: dict, schema_name: str, body: dict, server: ServerInfo) -> None:
    schema = openapi["components"]["schemas"][schema_name]
    unknown = set(body) - set(schema["properties"]) - _later_fields(server)
    assert not unknown, f"fields the server does not know: {sorted(unknown)}"
    v16_only = {key: value for key, value in body.items() if key in schema["properties"]}
    resolver_schema = {**schema, "components": openapi["components"]}
    jsonschema.validate(v16_only, resolver_schema)
    if "override_settings" in body:
        _check_options(openapi, body["override_settings"], server)
    if "alwayson_scripts" in body:
        jsonschema.validate(body["alwayson_scripts"], ALWAYSON_SCRIPTS)


def _check_options(openapi: dict, options: dict, server: ServerInfo) -> None:
    """Option keys (posted, or overridden per request) must be settings the server has, with
    values of the setting's type."""
    known = openapi["components"]["schemas"]["Options"]["properties"]
    later = FORGE_ONLY_OPTIONS if server.flavor == "forge" else frozenset()
    unknown = set(options) - set(known) - later
    assert not unknown, f"settings the server does not have: {sorted(unknown)}"
    for key, value in options.items():
        if key in known:
            jsonschema.validate(value, known[key])


@pytest.mark.parametrize("server", SERVERS, ids=lambda s: f"{s.flavor}-{s.version}")
@pytest.mark.parametrize(
    ("schema_name", "request_"),
    REQUESTS,
    ids=[f"{name}-{i}" for i, (name, _) in enumerate(REQUESTS)],
)
def test_every_body_validates_against_the_a1111_schema(openapi, schema_name, request_, server):
    _check_body(openapi, schema_name, payload_for(request_, server), server)


def _everything_on(**upscale: object) -> PipelineSettings:
    return PipelineSettings.model_validate(
        {
            "stages": ["txt2img", "img2img", "upscale"],
            "txt2img": {
                "model": "v1-5-pruned-emaonly.safetensors [6ce0161689]",
                "vae": "vae-ft-mse-840000-ema-pruned.safetensors",
                "scheduler": "karras", "clip_skip": 2, "subseed_strength": 0.3,
                "hires": True, "hires_sampler": "Euler a",
                "refiner": "sd_xl_refiner_1.0.safetensors",
            },
            "img2img": {"sampler": "DPM++ 2M", "steps": 12, "cfg_scale": 5},
            "upscale": {
                "upscaler_2": "Lanczos", "upscaler_2_visibility": 0.4,
                "face_restoration": "codeformer", **upscale,
            },
        }
    )  # fmt: skip


def _job() -> Job:
    return Job(id="j", run_id="r", index=0, prompt_index=0, seed=5, spec=PromptSpec(prompt="x"))


@pytest.mark.parametrize("server", SERVERS, ids=lambda s: f"{s.flavor}-{s.version}")
@pytest.mark.parametrize(
    "upscale",
    [{"scale": 3}, {"target_width": 2048, "target_height": 1536}, {"method": "img2img"}],
    ids=["by factor", "to size", "img2img"],
)
def test_bodies_the_pipeline_builds_validate_too(openapi, server, upscale):
    settings = _everything_on(**upscale)
    job = _job()
    requests = [
        txt2img_request(settings, job),
        img2img_request(settings, job, "iVBORw0KGgo="),
        upscale_request(settings, job, "iVBORw0KGgo="),
    ]
    for request in requests:
        _check_body(openapi, SCHEMA_OF[type(request)], payload_for(request, server), server)


def test_no_scheduler_field_before_1_9_sampler_name_carries_it():
    body = payload_for(FULL_TXT2IMG, A1111_1_6)
    assert "scheduler" not in body and "hr_scheduler" not in body
    assert body["sampler_name"] == "DPM++ 2M Karras"
    assert body["hr_sampler_name"] == "Euler a Exponential"


def test_automatic_scheduler_leaves_old_sampler_names_alone():
    body = payload_for(FULL_IMG2IMG, A1111_1_6)
    assert body["sampler_name"] == "Euler a"


@pytest.mark.parametrize("scheduler", ["uniform", "Uniform"])
def test_uniform_scheduler_leaves_old_sampler_names_alone(scheduler):
    """Before 1.9 a plain sampler name ("Euler") sampled on the uniform schedule; no sampler
    was named "Euler Uniform" (modules/sd_samplers_kdiffusion.py in A1111 1.8)."""
    request = Txt2ImgRequest(prompt="x", sampler_name="Euler", scheduler=scheduler)
    assert payload_for(request, A1111_1_6)["sampler_name"] == "Euler"


def test_scheduler_sent_verbatim_where_supported():
    body = payload_for(FULL_TXT2IMG, A1111_1_10)
    assert body["scheduler"] == "karras"
    assert body["sampler_name"] == "DPM++ 2M"


def test_sdnext_gets_neither_scheduler_nor_folded_names():
    body = payload_for(FULL_TXT2IMG, SDNEXT)
    assert "scheduler" not in body
    assert body["sampler_name"] == "DPM++ 2M"


def test_hires_always_carries_denoising_strength():
    body = payload_for(Txt2ImgRequest(prompt="x", enable_hr=True, cfg_scale=5), A1111_1_10)
    assert body["denoising_strength"] == 0.7
    explicit = Txt2ImgRequest(prompt="x", enable_hr=True, denoising_strength=0.3)
    assert payload_for(explicit, A1111_1_10)["denoising_strength"] == 0.3


def test_forge_hires_gets_hr_cfg_and_modules():
    body = payload_for(Txt2ImgRequest(prompt="x", enable_hr=True, cfg_scale=5), FORGE)
    assert body["hr_cfg"] == 5
    assert body["hr_additional_modules"] == ["Use same choices"]
    plain = payload_for(Txt2ImgRequest(prompt="x", cfg_scale=5), FORGE)
    assert "hr_cfg" not in plain and "hr_additional_modules" not in plain


def test_unset_fields_are_not_sent():
    body = payload_for(Txt2ImgRequest(prompt="x"), A1111_1_10)
    assert body == {
        "prompt": "x",
        "negative_prompt": "",
        "seed": -1,
        "batch_size": 1,
        "n_iter": 1,
        "send_images": True,
        "save_images": False,
    }


def test_unknown_fields_are_refused_when_building():
    with pytest.raises(ValueError, match="sampler"):
        Txt2ImgRequest(prompt="x", sampler="Euler")  # the API calls it sampler_name
