"""Request bodies, field for field as each flavor declares them.

Unknown fields are ignored (as pydantic does on the real servers) and wrong types give FastAPI's
422. The `parameters` echo in txt2img/img2img answers is the model dump, so every field the real
server has is declared here even when the simulator does nothing with it.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from stablenew_tui.sim.flavors import Flavor, SamplerRules

_IGNORE_EXTRA = ConfigDict(extra="ignore")


def _common_fields(flavor: Flavor) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "prompt": (str, ""),
        "negative_prompt": (str, ""),
        "styles": (list[str] | None, None),
        "seed": (int, -1),
        "subseed": (int, -1),
        "subseed_strength": (float, 0.0),
        "seed_resize_from_h": (int, -1),
        "seed_resize_from_w": (int, -1),
        "sampler_name": (str | None, None),
        "batch_size": (int, 1),
        "n_iter": (int, 1),
        "steps": (int, flavor.default_steps),
        "cfg_scale": (float, flavor.default_cfg_scale),
        "width": (int, flavor.default_size),
        "height": (int, flavor.default_size),
        "restore_faces": (bool | None, None),
        "tiling": (bool | None, None),
        "do_not_save_samples": (bool, False),
        "do_not_save_grid": (bool, False),
        "eta": (float | None, None),
        "s_min_uncond": (float | None, None),
        "s_churn": (float | None, None),
        "s_tmax": (float | None, None),
        "s_tmin": (float | None, None),
        "s_noise": (float | None, None),
        "override_settings": (dict[str, Any] | None, None),
        "override_settings_restore_afterwards": (bool, True),
        "refiner_checkpoint": (str | None, None),
        "refiner_switch_at": (float | None, None),
        "disable_extra_networks": (bool, False),
        "comments": (dict[str, Any] | None, None),
        "sampler_index": (str, flavor.default_sampler),
        "script_name": (str | None, None),
        "script_args": (list[Any], Field(default_factory=list)),
        "send_images": (bool, True),
        "save_images": (bool, False),
        "alwayson_scripts": (dict[str, Any], Field(default_factory=dict)),
        "force_task_id": (str | None, None),
        "infotext": (str | None, None),
    }
    if flavor.sampler_rules is SamplerRules.SPLIT_SCHEDULER:
        fields["scheduler"] = (str | None, None)
    if flavor.is_forge:
        fields["distilled_cfg_scale"] = (float, 3.5)
    return fields


def _txt2img_fields(flavor: Flavor) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "denoising_strength": (float | None, None),
        "enable_hr": (bool, False),
        "firstphase_width": (int, 0),
        "firstphase_height": (int, 0),
        "hr_scale": (float, 2.0),
        "hr_upscaler": (str | None, None),
        "hr_second_pass_steps": (int, 0),
        "hr_resize_x": (int, 0),
        "hr_resize_y": (int, 0),
        "hr_checkpoint_name": (str | None, None),
        "hr_sampler_name": (str | None, None),
        "hr_prompt": (str, ""),
        "hr_negative_prompt": (str, ""),
        "firstpass_image": (str | None, None),
    }
    if flavor.sampler_rules is SamplerRules.SPLIT_SCHEDULER:
        fields["hr_scheduler"] = (str | None, None)
    if flavor.is_forge:
        fields["hr_cfg"] = (float, 1.0)
        fields["hr_distilled_cfg"] = (float, 3.5)
        fields["hr_additional_modules"] = (list[str] | None, None)
    return fields


_IMG2IMG_FIELDS: dict[str, Any] = {
    "denoising_strength": (float, 0.75),
    "init_images": (list[Any] | None, None),
    "resize_mode": (int, 0),
    "image_cfg_scale": (float | None, None),
    "mask": (str | None, None),
    "mask_blur_x": (int, 4),
    "mask_blur_y": (int, 4),
    "mask_blur": (int | None, None),
    "mask_round": (bool, True),
    "inpainting_fill": (int, 0),
    "inpaint_full_res": (bool, True),
    "inpaint_full_res_padding": (int, 0),
    "inpainting_mask_invert": (int, 0),
    "initial_noise_multiplier": (float | None, None),
    "latent_mask": (str | None, None),
    "include_init_images": (bool, False),
}


@cache
def txt2img_model(flavor: Flavor) -> type[BaseModel]:
    fields = _common_fields(flavor) | _txt2img_fields(flavor)
    return create_model("StableDiffusionProcessingTxt2Img", __config__=_IGNORE_EXTRA, **fields)


@cache
def img2img_model(flavor: Flavor) -> type[BaseModel]:
    fields = _common_fields(flavor) | _IMG2IMG_FIELDS
    return create_model("StableDiffusionProcessingImg2Img", __config__=_IGNORE_EXTRA, **fields)


class FileData(BaseModel):
    data: str
    name: str


_VISIBILITY = Field(0, ge=0, le=1, allow_inf_nan=False)


def _resize_field(flavor: Flavor) -> Any:
    """The extras factor's bounds differ by release (see `Flavor.upscaling_resize_bounds`)."""
    limits = dict(flavor.upscaling_resize_bounds)
    return Field(2, gt=limits.get("gt"), ge=limits.get("ge"), le=limits.get("le"))


@cache
def extras_models(flavor: Flavor) -> tuple[type[BaseModel], type[BaseModel]]:
    """The extra-single-image and extra-batch-images bodies (A1111 modules/api/models.py
    `ExtrasBaseRequest`; SD.Next modules/api/models.py `ReqProcess`, which has no face
    restoration fields, takes any number as resize_mode and requires the image)."""
    fields: dict[str, Any] = {
        "resize_mode": (float, 0) if flavor.is_sdnext else (Literal[0, 1], 0),
        "show_extras_results": (bool, True),
        "upscaling_resize": (float, _resize_field(flavor)),
        "upscaling_resize_w": (int, Field(512, ge=1)),
        "upscaling_resize_h": (int, Field(512, ge=1)),
        "upscaling_crop": (bool, True),
        "upscaler_1": (str, "None"),
        "upscaler_2": (str, "None"),
        "extras_upscaler_2_visibility": (float, _VISIBILITY),
    }
    if flavor.is_sdnext:
        fields["script_args"] = (dict[str, Any] | None, None)
    else:
        fields |= {
            "gfpgan_visibility": (float, _VISIBILITY),
            "codeformer_visibility": (float, _VISIBILITY),
            "codeformer_weight": (float, _VISIBILITY),
            "upscale_first": (bool, False),
        }
    base = create_model("ExtrasBaseRequest", __config__=_IGNORE_EXTRA, **fields)
    image = (str, ...) if flavor.is_sdnext else (str, "")
    single = create_model("ExtrasSingleImageRequest", __base__=base, image=image)
    batch = create_model("ExtrasBatchImagesRequest", __base__=base, imageList=(list[FileData], ...))
    return single, batch


class InterrogateRequest(BaseModel):
    model_config = _IGNORE_EXTRA

    image: str = ""
    model: str = "clip"


class PNGInfoRequest(BaseModel):
    model_config = _IGNORE_EXTRA

    image: str


def ignored_fields(model: type[BaseModel], body: Any) -> list[str]:
    """Top-level keys of a JSON body that `model` does not declare (silently dropped)."""
    if not isinstance(body, dict):
        return []
    return [key for key in body if key not in model.model_fields]
