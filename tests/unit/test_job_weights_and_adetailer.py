"""Each job's own checkpoint, VAE and hypernetwork in its requests; the ADetailer stage's request
as the extension reads it, and its answer checked by the keys the extension writes."""

from __future__ import annotations

import json

import pytest

from stablenew_tui.pipeline.jobs import Job, PromptSpec
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.pipeline.stage_requests import (
    adetailer_request,
    img2img_request,
    txt2img_request,
)
from stablenew_tui.pipeline.verify import check_image
from stablenew_tui.webui.errors import AnswerMismatch
from stablenew_tui.webui.models import GenerationResult, ServerInfo
from stablenew_tui.webui.requests import payload_for

A1111 = ServerInfo(flavor="a1111", version="v1.10.1", supports_scheduler=True)


def job(**spec) -> Job:
    return Job(id="r-0", run_id="r", index=0, prompt_index=0, seed=7,
               spec=PromptSpec(prompt="a knight", **spec))  # fmt: skip


def settings(**sections) -> PipelineSettings:
    return PipelineSettings.model_validate(sections)


def test_the_job_names_its_own_checkpoint_vae_and_hypernetwork():
    chosen = settings(txt2img={"model": ["m1", "m2"], "vae": ["v1", "v2"]})
    made = job(model="m2", vae="v1", hypernetwork="anime_3", hypernetwork_strength=0.8)
    for request in (txt2img_request(chosen, made), img2img_request(chosen, made, "AAAA")):
        body = payload_for(request, A1111)
        assert body["override_settings"] == {"sd_model_checkpoint": "m2", "sd_vae": "v1"}
        assert body["prompt"] == "a knight <hypernet:anime_3:0.8>"


def test_img2img_keeps_its_own_checkpoint_over_the_jobs():
    chosen = settings(txt2img={"model": ["m1", "m2"]}, img2img={"model": "refiner"})
    body = payload_for(img2img_request(chosen, job(model="m2"), "AAAA"), A1111)
    assert body["override_settings"]["sd_model_checkpoint"] == "refiner"


def test_a_job_queued_before_jobs_named_their_model_takes_the_settings_one():
    chosen = settings(txt2img={"model": "m1", "vae": "v1"})
    body = payload_for(txt2img_request(chosen, job()), A1111)
    assert body["override_settings"] == {"sd_model_checkpoint": "m1", "sd_vae": "v1"}


def test_the_adetailer_stage_is_an_img2img_the_extension_reads():
    chosen = settings(
        txt2img={"width": 512, "height": 768, "hires": True, "hires_scale": 1.5, "steps": 30},
        adetailer={"model": "hand_yolov8n.pt", "confidence": 0.5, "dilation": 8, "denoise": 0.3,
                   "mask_feather": 6, "steps": 12, "cfg": 5.0, "prompt": "detailed hands"},
    )  # fmt: skip
    body = payload_for(adetailer_request(chosen, job(model="m1"), "AAAA"), A1111)
    assert body["init_images"] == ["AAAA"]
    assert (body["width"], body["height"]) == (768, 1152), "the image as it stands"
    assert body["steps"] == 30 and body["denoising_strength"] == 0.3
    assert body["override_settings"]["sd_model_checkpoint"] == "m1"
    assert body["alwayson_scripts"] == {
        "ADetailer": {
            "args": [
                True,  # on
                True,  # img2img skipped: only the detected regions change
                {
                    "ad_model": "hand_yolov8n.pt", "ad_confidence": 0.5, "ad_dilate_erode": 8,
                    "ad_mask_blur": 6, "ad_denoising_strength": 0.3,
                    "ad_prompt": "detailed hands",
                    "ad_use_steps": True, "ad_steps": 12,
                    "ad_use_cfg_scale": True, "ad_cfg_scale": 5.0,
                },
            ]
        }
    }  # fmt: skip


def test_unset_adetailer_values_are_left_to_the_extension():
    args = payload_for(adetailer_request(settings(), job(), "AAAA"), A1111)["alwayson_scripts"]
    (detail,) = args["ADetailer"]["args"][2:]
    assert detail == {
        "ad_model": "face_yolov8n.pt", "ad_confidence": 0.3, "ad_dilate_erode": 4,
        "ad_mask_blur": 4, "ad_denoising_strength": 0.4,
    }  # fmt: skip


# -- the answer: its main pass is the extension's stand-in -------------------------------------

ADETAILER_KEYS = (
    "ADetailer model: face_yolov8n.pt, ADetailer confidence: 0.3, ADetailer dilate erode: 4, "
    "ADetailer mask blur: 4, ADetailer denoising strength: 0.4, ADetailer version: 25.3.0"
)


def adetailer_answer(extra: str = ADETAILER_KEYS) -> GenerationResult:
    """What A1111 answers: the stand-in pass's sampler, steps and size, the extension's keys."""
    infotext = f"a knight\nSteps: 1, Sampler: Euler, CFG scale: 7, Seed: 7, Size: 128x128, {extra}"
    info = {"seed": 7, "all_seeds": [7], "width": 128, "height": 128, "sampler_name": "Euler",
            "index_of_first_image": 0, "infotexts": [infotext]}  # fmt: skip
    return GenerationResult.from_answer({"images": ["AAAA"], "info": json.dumps(info)})


def sent_body() -> dict:
    return payload_for(adetailer_request(settings(), job(), "AAAA"), A1111)


def test_an_adetailer_answer_is_checked_by_the_extensions_keys():
    verdict = check_image(sent_body(), adetailer_answer(), [], node="gpu1")
    assert set(verdict.unverified) == {"sampler", "size"}


def test_an_answer_without_the_extensions_keys_was_not_detailed():
    with pytest.raises(AnswerMismatch) as caught:
        check_image(sent_body(), adetailer_answer("Denoising strength: 0.4"), [], node="gpu1")
    assert "asked for ADetailer model 'face_yolov8n.pt', the node made it with None" in str(
        caught.value
    )
    assert not caught.value.retriable


def test_a_detection_made_with_other_values_fails():
    other = ADETAILER_KEYS.replace("confidence: 0.3", "confidence: 0.6")
    with pytest.raises(AnswerMismatch) as caught:
        check_image(sent_body(), adetailer_answer(other), [], node="gpu1")
    assert "asked for ADetailer confidence 0.3, the node made it with '0.6'" in str(caught.value)
