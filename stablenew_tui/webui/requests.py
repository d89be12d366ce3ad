"""Requests to the WebUI API, built strictly.

The WebUI silently ignores fields it does not know, so a typo or a field from a newer version
would never error; it would just not do what the user asked. These models forbid unknown
fields, and `payload_for` drops what the detected server does not understand.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from stablenew_tui.webui.models import ServerInfo

# Fields that are not in the v1.6 API: sent only to servers known to have them.
SCHEDULER_FIELDS = frozenset({"scheduler", "hr_scheduler"})
FORGE_ONLY_FIELDS = frozenset(
    {"distilled_cfg_scale", "hr_distilled_cfg", "hr_cfg", "hr_additional_modules"}
)
# The A1111 UI's default for the hires pass; the API has none and crashes without one.
HIRES_DEFAULT_DENOISING = 0.7
# How the WebUI spells "let the checkpoint decide" and "no VAE".
VAE_AUTOMATIC = "Automatic"
VAE_NONE = "None"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GenerationRequest(_Request):
    """Fields shared by txt2img and img2img. `None` means: not sent, the server decides."""

    prompt: str = ""
    negative_prompt: str = ""
    styles: list[str] | None = None
    seed: int = -1
    subseed: int | None = None
    subseed_strength: float | None = None
    sampler_name: str | None = None
    scheduler: str | None = None
    batch_size: int = 1
    n_iter: int = 1
    steps: int | None = None
    cfg_scale: float | None = None
    distilled_cfg_scale: float | None = None
    width: int | None = None
    height: int | None = None
    restore_faces: bool | None = None
    tiling: bool | None = None
    denoising_strength: float | None = None
    override_settings: dict[str, Any] | None = None
    override_settings_restore_afterwards: bool | None = None
    refiner_checkpoint: str | None = None
    refiner_switch_at: float | None = None
    send_images: bool = True
    save_images: bool = False
    alwayson_scripts: dict[str, Any] | None = None


class Txt2ImgRequest(GenerationRequest):
    enable_hr: bool | None = None
    hr_scale: float | None = None
    hr_upscaler: str | None = None
    hr_second_pass_steps: int | None = None
    hr_resize_x: int | None = None
    hr_resize_y: int | None = None
    hr_sampler_name: str | None = None
    hr_scheduler: str | None = None
    hr_checkpoint_name: str | None = None
    hr_prompt: str | None = None
    hr_negative_prompt: str | None = None
    hr_cfg: float | None = None
    hr_distilled_cfg: float | None = None
    hr_additional_modules: list[str] | None = None


class Img2ImgRequest(GenerationRequest):
    init_images: list[str] = Field(default_factory=list)
    resize_mode: int | None = None
    image_cfg_scale: float | None = None
    include_init_images: bool | None = None


class ExtrasRequest(_Request):
    """extra-single-image; `resize_mode` 0 scales by `upscaling_resize`, 1 to w×h."""

    image: str = ""
    resize_mode: int = 0
    upscaling_resize: float | None = None
    upscaling_resize_w: int | None = None
    upscaling_resize_h: int | None = None
    upscaling_crop: bool | None = None
    upscaler_1: str = "None"
    upscaler_2: str | None = None
    extras_upscaler_2_visibility: float | None = None
    gfpgan_visibility: float | None = None
    codeformer_visibility: float | None = None
    codeformer_weight: float | None = None
    upscale_first: bool | None = None


class ExtrasBatchRequest(ExtrasRequest):
    image: str = Field("", exclude=True)
    imageList: list[dict[str, str]] = Field(default_factory=list)


def payload_for(request: _Request, server: ServerInfo) -> dict[str, Any]:
    """The JSON body for this server: unset fields omitted, unknown ones dropped, the
    combinations servers are known to crash on filled in."""
    body = request.model_dump(exclude_none=True)
    if isinstance(request, Txt2ImgRequest) and request.enable_hr:
        body.setdefault("denoising_strength", HIRES_DEFAULT_DENOISING)
        if server.flavor == "forge":
            # Forge defaults hr_cfg to 1.0 and answers 500 without hr_additional_modules.
            if request.cfg_scale is not None:
                body.setdefault("hr_cfg", request.cfg_scale)
            body.setdefault("hr_additional_modules", ["Use same choices"])
    if server.flavor == "forge":
        _vae_as_forge_modules(body.get("override_settings") or {})
    else:
        for field in FORGE_ONLY_FIELDS:
            body.pop(field, None)
    if not server.supports_scheduler:
        if server.flavor == "a1111":
            _fold_scheduler_into_sampler(body, "scheduler", "sampler_name")
            _fold_scheduler_into_sampler(body, "hr_scheduler", "hr_sampler_name")
        for field in SCHEDULER_FIELDS:
            body.pop(field, None)
    return body


def _vae_as_forge_modules(overrides: dict[str, Any]) -> None:
    """Forge has no `sd_vae`: VAEs and text encoders are a list of module files, which it also
    takes by bare file name (`modules_forge/main_entry.py`, `modules_change`)."""
    if "sd_vae" in overrides:
        vae = overrides.pop("sd_vae")
        overrides["forge_additional_modules"] = [] if vae in (VAE_AUTOMATIC, VAE_NONE) else [vae]


def _fold_scheduler_into_sampler(
    body: dict[str, Any], scheduler_key: str, sampler_key: str
) -> None:
    scheduler = body.pop(scheduler_key, None)
    sampler = body.get(sampler_key)
    if sampler:
        body[sampler_key] = combined_sampler_name(sampler, scheduler)


def combined_sampler_name(sampler: str, scheduler: str | None) -> str:
    """The sampler's name on a server before 1.9, where the schedule was part of it
    ("DPM++ 2M Karras"); Automatic and Uniform were the names without a suffix."""
    label = schedule_label(scheduler)
    if label is None or sampler.endswith(f" {label}"):
        return sampler
    return f"{sampler} {label}"


def schedule_label(scheduler: str | None) -> str | None:
    """How a sampler name before 1.9 spells a schedule; None where it spells none."""
    if not scheduler or scheduler.lower() in ("automatic", "uniform"):
        return None
    return scheduler if scheduler[:1].isupper() else scheduler.capitalize()
