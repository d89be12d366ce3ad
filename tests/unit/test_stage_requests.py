"""Every generation pins its checkpoint and VAE in the request itself."""

import pytest

from stablenew_tui.pipeline.jobs import Job, PromptSpec
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.pipeline.stage_requests import (
    img2img_request,
    txt2img_request,
    upscale_request,
)
from stablenew_tui.webui.models import ServerInfo
from stablenew_tui.webui.requests import payload_for

JOB = Job(id="r-00000", run_id="r", index=0, prompt_index=0, seed=7, spec=PromptSpec(prompt="x"))
A1111 = ServerInfo(flavor="a1111", version="v1.10.1", supports_scheduler=True)
FORGE = ServerInfo(flavor="forge", version="f2.0.1v1.10.1", supports_scheduler=True)


def settings(**txt2img) -> PipelineSettings:
    return PipelineSettings.model_validate(
        {
            "txt2img": txt2img,
            "img2img": {"model": "anything-v5-PrtRE"},
            "upscale": {"method": "img2img"},
        }
    )


def test_checkpoint_vae_and_clip_skip_go_in_every_generation_with_restoring_off():
    chosen = settings(model="dreamshaper_8", vae="kl-f8-anime2.ckpt", clip_skip=2)
    first = payload_for(txt2img_request(chosen, JOB), A1111)
    assert first["override_settings"] == {
        "sd_model_checkpoint": "dreamshaper_8",
        "sd_vae": "kl-f8-anime2.ckpt",
        "CLIP_stop_at_last_layers": 2,
    }
    assert first["override_settings_restore_afterwards"] is False
    for later in (img2img_request(chosen, JOB, "AAAA"), upscale_request(chosen, JOB, "AAAA")):
        body = payload_for(later, A1111)
        assert body["override_settings"]["sd_model_checkpoint"] == "anything-v5-PrtRE"
        assert body["override_settings_restore_afterwards"] is False


def test_nothing_chosen_sends_no_overrides():
    body = payload_for(txt2img_request(PipelineSettings(), JOB), A1111)
    assert "override_settings" not in body and "override_settings_restore_afterwards" not in body


@pytest.mark.parametrize(
    ("vae", "modules"),
    [("sdxl_vae.safetensors", ["sdxl_vae.safetensors"]), ("Automatic", []), ("None", [])],
)
def test_forge_gets_the_vae_as_its_module_list(vae, modules):
    body = payload_for(txt2img_request(settings(model="flux1-dev", vae=vae), JOB), FORGE)
    assert body["override_settings"] == {
        "sd_model_checkpoint": "flux1-dev",
        "forge_additional_modules": modules,
    }


def test_the_global_negative_follows_each_stage_s_negative_where_that_stage_applies_it():
    job = Job(id="r-00000", run_id="r", index=0, prompt_index=0, seed=7,
              spec=PromptSpec(prompt="x", negative="fog", global_negative="watermark"))  # fmt: skip
    chosen = PipelineSettings.model_validate({"img2img": {"apply_global_negative": False},
                                              "upscale": {"method": "img2img"}})  # fmt: skip
    assert txt2img_request(chosen, job).negative_prompt == "fog, watermark"
    assert img2img_request(chosen, job, "AAAA").negative_prompt == "fog"
    assert upscale_request(chosen, job, "AAAA").negative_prompt == "fog, watermark"
    alone = job.model_copy(update={"spec": PromptSpec(prompt="x", global_negative="watermark")})
    assert txt2img_request(chosen, alone).negative_prompt == "watermark"


def test_a_hires_sampler_is_sent_only_with_hires_fix():
    assert txt2img_request(settings(hires_sampler="Euler a"), JOB).hr_sampler_name is None
    hires = settings(hires=True, hires_sampler="Euler a")
    assert payload_for(txt2img_request(hires, JOB), A1111)["hr_sampler_name"] == "Euler a"
