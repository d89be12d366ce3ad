"""The ADetailer extension (Bing-su/adetailer, v25.3.0) as the a1111 and forge flavors have it.

Read from the extension's code: `adetailer/args.py` (`ADetailerArgs`, its infotext names and
which it leaves out, `need_skip`), `scripts/!adetailer.py` (`is_ad_enabled`, `set_skip_img2img`,
`get_args`, `get_ad_model`, `get_prompt`, `get_seed`, `get_steps`, `_postprocess_image_inner`,
`add_api_endpoints`) and `adetailer/common.py` (`get_models`). Modelled:

- `alwayson_scripts` {"ADetailer": {"args": [enabled, skip img2img, {...}, ...]}}: a table that
  fails the extension's checks is skipped (it prints why), and with none left it does nothing;
- skipping img2img runs the request's pass as a stand-in of 1 step of Euler at 128×128, so the
  answer's `info` and infotext report that, and the image is the init image, detailed;
- every kept table adds its infotext keys ("ADetailer model", "ADetailer confidence", …, " 2nd"
  after the second table's) and "ADetailer version";
- detection: each model finds fixed kinds of regions (a face, two hands, a person) at places
  that move with the seed, each with a score; those under `ad_confidence` are dropped; the
  mask grows by `ad_dilate_erode`, moves by the offsets, is blurred by `ad_mask_blur`, and the
  region is redrawn from its prompt (`[PROMPT]`, `[SEP]`) at `ad_denoising_strength`;
- an unknown `ad_model` fails the request with the extension's ValueError (the real server
  after the first pass, the simulator before queueing);
- `/adetailer/v1/version` and `/adetailer/v1/ad_model`, outside the API's auth.

Not modelled: ControlNet, checkpoint/VAE/noise/CLIP-skip overrides of the detail pass, mask
merge and invert, mask ratio filters, the setting that gives every table the same seed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI
from PIL import Image, ImageDraw, ImageFilter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stablenew_tui.sim import images
from stablenew_tui.sim.errors import SimServerError
from stablenew_tui.sim.flavors import Flavor

VERSION = "25.3.0"
# The v25.3.0 tag: what `extensions` lists.
COMMIT, COMMIT_DATE = "36189cbea735b85fd01e98ac42002b8ce6f0e41d", 1741606606
SCRIPT_TITLE = "ADetailer"
# `get_models`: the models it downloads, then the mediapipe ones.
MODELS = (
    "face_yolov8n.pt", "face_yolov8s.pt", "hand_yolov8n.pt", "person_yolov8n-seg.pt",
    "person_yolov8s-seg.pt", "yolov8x-worldv2.pt", "mediapipe_face_full", "mediapipe_face_short",
    "mediapipe_face_mesh", "mediapipe_face_mesh_eyes_only",
)  # fmt: skip
# What each kind of model finds: (left, top, right, bottom) as parts of the image, and a score.
_FINDS: dict[str, tuple[tuple[float, float, float, float, float], ...]] = {
    "face": ((0.38, 0.16, 0.62, 0.44, 0.87),),
    "hand": ((0.10, 0.58, 0.26, 0.78, 0.74), (0.72, 0.60, 0.88, 0.80, 0.61)),
    "person": ((0.26, 0.08, 0.74, 0.96, 0.92),),
}
STAND_IN = {"steps": 1, "width": 128, "height": 128}  # `set_skip_img2img`
STAND_IN_SAMPLER = "Euler"


def has_adetailer(flavor: Flavor) -> bool:
    return flavor.name in ("a1111", "forge")


class DetailArgs(BaseModel):
    """`ADetailerArgs`: one table of the extension's arguments, unknown keys refused."""

    model_config = ConfigDict(extra="forbid")

    ad_model: str = "None"
    ad_model_classes: str = ""
    ad_tab_enable: bool = True
    ad_prompt: str = ""
    ad_negative_prompt: str = ""
    ad_confidence: float = Field(0.3, ge=0.0, le=1.0)
    ad_mask_filter_method: Literal["Area", "Confidence"] = "Area"
    ad_mask_k: int = Field(0, ge=0)
    ad_mask_min_ratio: float = Field(0.0, ge=0.0, le=1.0)
    ad_mask_max_ratio: float = Field(1.0, ge=0.0, le=1.0)
    ad_dilate_erode: int = 4
    ad_x_offset: int = 0
    ad_y_offset: int = 0
    ad_mask_merge_invert: Literal["None", "Merge", "Merge and Invert"] = "None"
    ad_mask_blur: int = Field(4, ge=0)
    ad_denoising_strength: float = Field(0.4, ge=0.0, le=1.0)
    ad_inpaint_only_masked: bool = True
    ad_inpaint_only_masked_padding: int = Field(32, ge=0)
    ad_use_inpaint_width_height: bool = False
    ad_inpaint_width: int = Field(512, gt=0)
    ad_inpaint_height: int = Field(512, gt=0)
    ad_use_steps: bool = False
    ad_steps: int = Field(28, gt=0)
    ad_use_cfg_scale: bool = False
    ad_cfg_scale: float = Field(7.0, ge=0.0)
    ad_use_checkpoint: bool = False
    ad_checkpoint: str | None = None
    ad_use_vae: bool = False
    ad_vae: str | None = None
    ad_use_sampler: bool = False
    ad_sampler: str = "DPM++ 2M Karras"
    ad_scheduler: str = "Use same scheduler"
    ad_use_noise_multiplier: bool = False
    ad_noise_multiplier: float = Field(1.0, ge=0.5, le=1.5)
    ad_use_clip_skip: bool = False
    ad_clip_skip: int = Field(1, ge=1, le=12)
    ad_restore_face: bool = False
    ad_controlnet_model: str = "None"
    ad_controlnet_module: str = "None"
    ad_controlnet_weight: float = Field(1.0, ge=0.0, le=1.0)
    ad_controlnet_guidance_start: float = Field(0.0, ge=0.0, le=1.0)
    ad_controlnet_guidance_end: float = Field(1.0, ge=0.0, le=1.0)
    is_api: Any = True

    def skipped(self) -> bool:
        return self.ad_model == "None" or not self.ad_tab_enable


@dataclass
class DetailPlan:
    skip_img2img: bool
    tables: list[DetailArgs]  # every table that passed the checks, skipped ones included
    infotext: dict[str, Any] = field(default_factory=dict)

    @property
    def passes(self) -> list[tuple[int, DetailArgs]]:
        return [(n, table) for n, table in enumerate(self.tables) if not table.skipped()]


@dataclass(frozen=True)
class Region:
    box: tuple[int, int, int, int]
    score: float


def plan_detail(alwayson: dict[str, Any] | None, kind: str) -> DetailPlan | None:
    """The extension's part in a request, or None when it does nothing."""
    entry = next(
        (value for name, value in (alwayson or {}).items() if name.lower() == "adetailer"), None
    )
    args = entry.get("args", []) if isinstance(entry, dict) else []
    if not isinstance(args, list):
        return None
    enabled = args[0] if args and isinstance(args[0], bool) else True
    skip = kind == "img2img" and len(args) >= 2 and args[1] is True
    tables = []
    for arg in args:
        if isinstance(arg, dict):
            try:
                tables.append(DetailArgs.model_validate(arg))
            except ValidationError:
                continue  # "ValidationError when validating ... arguments", on the console
    plan = DetailPlan(skip, tables)
    if not enabled or not plan.passes:
        return None
    for _, table in plan.passes:
        if table.ad_model not in MODELS:
            raise SimServerError(
                "ValueError",
                f"[-] ADetailer: Model {table.ad_model!r} not found. "
                f"Available models: {list(MODELS)}",
            )
    plan.infotext = infotext_params(plan)
    return plan


# -- infotext ------------------------------------------------------------------------------

_LABELS = {
    "ad_model": "model", "ad_model_classes": "model classes", "ad_prompt": "prompt",
    "ad_negative_prompt": "negative prompt", "ad_confidence": "confidence",
    "ad_mask_filter_method": "method to decide top k masks", "ad_mask_k": "mask only top k",
    "ad_mask_min_ratio": "mask min ratio", "ad_mask_max_ratio": "mask max ratio",
    "ad_x_offset": "x offset", "ad_y_offset": "y offset", "ad_dilate_erode": "dilate erode",
    "ad_mask_merge_invert": "mask merge invert", "ad_mask_blur": "mask blur",
    "ad_denoising_strength": "denoising strength", "ad_inpaint_only_masked": "inpaint only masked",
    "ad_inpaint_only_masked_padding": "inpaint padding",
    "ad_use_inpaint_width_height": "use inpaint width height",
    "ad_inpaint_width": "inpaint width", "ad_inpaint_height": "inpaint height",
    "ad_use_steps": "use separate steps", "ad_steps": "steps",
    "ad_use_cfg_scale": "use separate CFG scale", "ad_cfg_scale": "CFG scale",
    "ad_use_checkpoint": "use separate checkpoint", "ad_checkpoint": "checkpoint",
    "ad_use_vae": "use separate VAE", "ad_vae": "VAE", "ad_use_sampler": "use separate sampler",
    "ad_sampler": "sampler", "ad_scheduler": "scheduler",
    "ad_use_noise_multiplier": "use separate noise multiplier",
    "ad_noise_multiplier": "noise multiplier", "ad_use_clip_skip": "use separate CLIP skip",
    "ad_clip_skip": "CLIP skip", "ad_restore_face": "restore face",
    "ad_controlnet_model": "ControlNet model", "ad_controlnet_module": "ControlNet module",
    "ad_controlnet_weight": "ControlNet weight",
    "ad_controlnet_guidance_start": "ControlNet guidance start",
    "ad_controlnet_guidance_end": "ControlNet guidance end",
}  # fmt: skip
# A value that leaves keys out of the infotext: (key, the value that does, the keys it takes).
_LEAVES_OUT: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("ad_model_classes", "", ()),
    ("ad_prompt", "", ()),
    ("ad_negative_prompt", "", ()),
    ("ad_mask_k", 0, ("ad_mask_filter_method",)),
    ("ad_mask_min_ratio", 0.0, ()),
    ("ad_mask_max_ratio", 1.0, ()),
    ("ad_x_offset", 0, ()),
    ("ad_y_offset", 0, ()),
    ("ad_mask_merge_invert", "None", ()),
    ("ad_inpaint_only_masked", False, ("ad_inpaint_only_masked_padding",)),
    ("ad_use_inpaint_width_height", False, ("ad_inpaint_width", "ad_inpaint_height")),
    ("ad_use_steps", False, ("ad_steps",)),
    ("ad_use_cfg_scale", False, ("ad_cfg_scale",)),
    ("ad_use_checkpoint", False, ("ad_checkpoint",)),
    ("ad_use_vae", False, ("ad_vae",)),
    ("ad_use_sampler", False, ("ad_sampler", "ad_scheduler")),
    ("ad_scheduler", "Use same scheduler", ()),
    ("ad_use_noise_multiplier", False, ("ad_noise_multiplier",)),
    ("ad_use_clip_skip", False, ("ad_clip_skip",)),
    ("ad_restore_face", False, ()),
    ("ad_controlnet_model", "None", tuple(k for k in _LABELS if k.startswith("ad_controlnet_"))),
    ("ad_controlnet_module", "None", ()),
    ("ad_controlnet_weight", 1.0, ()),
    ("ad_controlnet_guidance_start", 0.0, ()),
    ("ad_controlnet_guidance_end", 1.0, ()),
)


def infotext_params(plan: DetailPlan) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for number, table in plan.passes:
        values = table.model_dump()
        shown = dict.fromkeys(_LABELS, True)
        for key, value, also in _LEAVES_OUT:
            if values[key] == value:
                for left_out in (key, *also):
                    shown[left_out] = False
        suffix = "" if number == 0 else f" {_ordinal(number + 1)}"
        params.update(
            {f"ADetailer {_LABELS[key]}{suffix}": values[key] for key in _LABELS if shown[key]}
        )
    params["ADetailer version"] = VERSION
    return params


def _ordinal(n: int) -> str:
    ending = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{ending}"


# -- detecting and redrawing --------------------------------------------------------------------


def detect(table: DetailArgs, width: int, height: int, seed: int) -> list[Region]:
    kind = next((kind for kind in _FINDS if kind in table.ad_model), "person")
    if table.ad_model.startswith("mediapipe"):
        kind = "face"
    shift = images.stable_hash(seed, table.ad_model)
    dx, dy = ((shift % 101) / 100 - 0.5) * 0.1, (((shift >> 8) % 101) / 100 - 0.5) * 0.1
    found = [
        Region(_box(left + dx, top + dy, right + dx, bottom + dy, width, height), score)
        for left, top, right, bottom, score in _FINDS[kind]
        if score >= table.ad_confidence
    ]
    if table.ad_mask_k:
        found = sorted(found, key=_area if table.ad_mask_filter_method == "Area" else _score)
        found = found[::-1][: table.ad_mask_k]
    return found


def _box(
    left: float, top: float, right: float, bottom: float, width: int, height: int
) -> tuple[int, int, int, int]:
    return round(left * width), round(top * height), round(right * width), round(bottom * height)


def _area(region: Region) -> float:
    left, top, right, bottom = region.box
    return (right - left) * (bottom - top)


def _score(region: Region) -> float:
    return region.score


def detail_steps(table: DetailArgs, steps: int) -> int:
    """Steps a region's inpaint samples: its own, else the request's (`get_steps`), cut by
    denoising as any img2img pass."""
    own = table.ad_steps if table.ad_use_steps else steps
    return int(min(table.ad_denoising_strength, 0.999) * own) + 1


def region_prompts(ad_prompt: str, prompt: str) -> list[str]:
    """`[SEP]` splits a prompt per region, empty parts and `[PROMPT]` take the image's."""
    parts = re.split(r"\s*\[SEP\]\s*", ad_prompt)
    return [part.replace("[PROMPT]", prompt) if part else prompt for part in parts]


def redraw(
    picture: Image.Image, plan: DetailPlan, prompt: str, seed: int, model: str
) -> Image.Image:
    """The picture with every detected region redrawn, table after table."""
    for _, table in plan.passes:
        prompts = region_prompts(table.ad_prompt, prompt)
        for number, region in enumerate(detect(table, *picture.size, seed)):
            text = prompts[min(number, len(prompts) - 1)]
            picture = _redraw_region(picture, table, region, text, seed + number, model)
    return picture


def _redraw_region(
    picture: Image.Image, table: DetailArgs, region: Region, prompt: str, seed: int, model: str
) -> Image.Image:
    grow = table.ad_dilate_erode
    left, top, right, bottom = region.box
    box = (
        left - grow + table.ad_x_offset, top - grow - table.ad_y_offset,
        right + grow + table.ad_x_offset, bottom + grow - table.ad_y_offset,
    )  # fmt: skip
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return picture
    # Drawn as the detector's model sees it, so even the image's own prompt and seed change
    # the region the way an inpaint pass would.
    drawn = images.draw_scene(prompt, seed, *picture.size, f"{model}|{table.ad_model}")
    redrawn = Image.blend(picture.convert("RGB"), drawn, table.ad_denoising_strength)
    mask = Image.new("L", picture.size, 0)
    ImageDraw.Draw(mask).rectangle(box, fill=255)
    if table.ad_mask_blur:
        mask = mask.filter(ImageFilter.GaussianBlur(table.ad_mask_blur))
    return Image.composite(redrawn, picture.convert("RGB"), mask)


def add_adetailer_routes(app: FastAPI, flavor: Flavor) -> None:
    """The extension's routes, on the app itself: no API auth (`add_api_endpoints`)."""
    if not has_adetailer(flavor):
        return

    @app.get("/adetailer/v1/version")
    async def version() -> dict[str, str]:
        return {"version": VERSION}

    @app.get("/adetailer/v1/ad_model")
    async def ad_model() -> dict[str, list[str]]:
        return {"ad_model": list(MODELS)}
