"""From stage settings and a job to the WebUI request of each stage.

Names chosen by the user (sampler, scheduler, upscaler, checkpoints) go through verbatim.
The run's global negative follows each generation's own negative where that stage applies it.
Every generation names its checkpoint and VAE in `override_settings`, so what it is made with
never depends on what another client did to the node; the server applies them inside the
request, under its queue lock (`modules/processing.py`, `process_images`). Restoring them
afterwards is off: the WebUI would only load the previous checkpoint back, for nothing.

The checkpoint, VAE and hypernetwork are the job's own (a run may spread over several). A
hypernetwork goes into the prompt as `<hypernet:name:strength>`, the request-scoped way every
A1111-family server reads it (`modules/extra_networks_hypernet.py`), never through the options.
"""

from __future__ import annotations

from typing import Any

from stablenew_tui.pipeline.adetailer import adetailer_scripts
from stablenew_tui.pipeline.jobs import Job
from stablenew_tui.pipeline.settings import (
    Img2ImgSettings,
    Names,
    PipelineSettings,
    Txt2ImgSettings,
    UpscaleSettings,
)
from stablenew_tui.webui.requests import ExtrasRequest, Img2ImgRequest, Txt2ImgRequest

_FACE_RESTORERS = ("gfpgan", "codeformer")
Size = tuple[int, int]  # width, height


def txt2img_request(settings: PipelineSettings, job: Job) -> Txt2ImgRequest:
    stage = settings.txt2img
    request = Txt2ImgRequest(
        prompt=job_prompt(job),
        negative_prompt=_negative(job, stage),
        seed=job.seed,
        sampler_name=stage.sampler,
        scheduler=stage.scheduler,
        steps=stage.steps,
        cfg_scale=stage.cfg_scale,
        width=stage.width,
        height=stage.height,
        **_overrides(settings, job, job_model(settings, job)),
    )
    if stage.subseed_strength > 0:
        request.subseed = stage.subseed
        request.subseed_strength = stage.subseed_strength
    if stage.hires:
        request.enable_hr = True
        request.hr_scale = stage.hires_scale
        request.hr_upscaler = stage.hires_upscaler
        request.hr_sampler_name = stage.hires_sampler
        request.hr_second_pass_steps = stage.hires_steps
        request.denoising_strength = stage.hires_denoising
    if stage.refiner:
        request.refiner_checkpoint = stage.refiner
        request.refiner_switch_at = stage.refiner_switch_at
    return request


def img2img_request(
    settings: PipelineSettings, job: Job, init_image: str, base_size: Size | None = None
) -> Img2ImgRequest:
    """`base_size`: the size of the image the job started from, when it did not start with
    txt2img; img2img keeps it."""
    stage = settings.img2img
    width, height = base_size or hires_size(settings)
    return Img2ImgRequest(
        prompt=job_prompt(job),
        negative_prompt=_negative(job, stage),
        seed=job.seed,
        init_images=[init_image],
        denoising_strength=stage.denoising_strength,
        resize_mode=stage.resize_mode,
        **img2img_sampling(settings),
        width=width,
        height=height,
        **_overrides(settings, job, pass_model(settings, job)),
    )


def adetailer_request(settings: PipelineSettings, job: Job, image: str) -> Img2ImgRequest:
    """img2img of the image as it stands, at its size, with the ADetailer extension redrawing
    what it detects and nothing else (see `pipeline.adetailer`)."""
    width, height = hires_size(settings)
    return Img2ImgRequest(
        prompt=job_prompt(job),
        negative_prompt=job.spec.negative,
        seed=job.seed,
        init_images=[image],
        denoising_strength=settings.adetailer.denoise,
        **img2img_sampling(settings),
        width=width,
        height=height,
        alwayson_scripts=adetailer_scripts(settings.adetailer),
        **_overrides(settings, job, pass_model(settings, job)),
    )


def upscale_request(
    settings: PipelineSettings, job: Job, image: str, base_size: Size | None = None
) -> ExtrasRequest | Img2ImgRequest:
    stage = settings.upscale
    if stage.method == "img2img":
        width, height = upscaled_size(settings, base_size)
        return Img2ImgRequest(
            prompt=job_prompt(job),
            negative_prompt=_negative(job, stage),
            seed=job.seed,
            init_images=[image],
            denoising_strength=stage.denoising_strength,
            **img2img_sampling(settings),
            width=width,
            height=height,
            **_overrides(settings, job, pass_model(settings, job)),
        )
    request = ExtrasRequest(image=image, upscaler_1=stage.upscaler)
    if stage.target_width and stage.target_height:
        request.resize_mode = 1
        request.upscaling_resize_w = stage.target_width
        request.upscaling_resize_h = stage.target_height
        request.upscaling_crop = True
    else:
        request.upscaling_resize = stage.scale
    if stage.upscaler_2 != "None" and stage.upscaler_2_visibility > 0:
        request.upscaler_2 = stage.upscaler_2
        request.extras_upscaler_2_visibility = stage.upscaler_2_visibility
    if stage.face_restoration == "gfpgan":
        request.gfpgan_visibility = stage.face_restoration_strength
    elif stage.face_restoration == "codeformer":
        request.codeformer_visibility = stage.face_restoration_strength
        request.codeformer_weight = stage.codeformer_weight
    return request


def _negative(job: Job, stage: Txt2ImgSettings | Img2ImgSettings | UpscaleSettings) -> str:
    """The prompt's negative, then the run's global negative when this stage applies it."""
    spec = job.spec
    parts = (spec.negative, spec.global_negative if stage.apply_global_negative else "")
    return ", ".join(part for part in parts if part)


def img2img_sampling(settings: PipelineSettings) -> dict[str, Any]:
    """Sampler, scheduler, steps and CFG of an img2img pass: img2img's own where set, else
    txt2img's."""
    stage, base = settings.img2img, settings.txt2img
    return {
        "sampler_name": stage.sampler or base.sampler,
        "scheduler": stage.scheduler or base.scheduler,
        "steps": stage.steps or base.steps,
        "cfg_scale": stage.cfg_scale or base.cfg_scale,
    }


def job_model(settings: PipelineSettings, job: Job) -> str | None:
    """The job's checkpoint. A job queued before jobs named their own takes the settings'."""
    return job.spec.model or _single(settings.txt2img.model)


def pass_model(settings: PipelineSettings, job: Job) -> str | None:
    """The checkpoint of the passes after txt2img: img2img's own where set, else the job's."""
    return settings.img2img.model or job_model(settings, job)


def job_prompt(job: Job) -> str:
    spec = job.spec
    if spec.hypernetwork is None:
        return spec.prompt
    strength = 1.0 if spec.hypernetwork_strength is None else spec.hypernetwork_strength
    return f"{spec.prompt} <hypernet:{spec.hypernetwork}:{strength:g}>"


def _single(names: Names) -> str | None:
    return names if isinstance(names, str) else None


def _overrides(settings: PipelineSettings, job: Job, model: str | None) -> dict[str, Any]:
    """The request fields that pin a generation's checkpoint, VAE and clip skip."""
    chosen = {
        "sd_model_checkpoint": model,
        "sd_vae": job.spec.vae or _single(settings.txt2img.vae),
        "CLIP_stop_at_last_layers": settings.txt2img.clip_skip,
    }
    overrides = {key: value for key, value in chosen.items() if value is not None}
    if not overrides:
        return {}
    return {"override_settings": overrides, "override_settings_restore_afterwards": False}


def hires_size(settings: PipelineSettings) -> tuple[int, int]:
    """img2img works at the size txt2img produced (larger when hires fix ran)."""
    stage = settings.txt2img
    factor = stage.hires_scale if stage.hires else 1.0
    return _round8(stage.width * factor), _round8(stage.height * factor)


def upscaled_size(settings: PipelineSettings, base_size: Size | None) -> Size:
    stage = settings.upscale
    if stage.target_width and stage.target_height:
        return stage.target_width, stage.target_height
    width, height = base_size or hires_size(settings)
    return _round8(width * stage.scale), _round8(height * stage.scale)


def _round8(value: float) -> int:
    return max(64, round(value / 8) * 8)
