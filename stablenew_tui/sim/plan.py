"""Turning a txt2img/img2img request into a plan, with the checks the real server makes first.

Everything here happens before the job queues, so a bad request fails fast with the flavor's
error: unknown sampler, unknown upscaler, Forge's hires without `hr_additional_modules`, a
missing or undecodable init image.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from pydantic import BaseModel

from stablenew_tui.sim.addons import apply_styles, check_scripts
from stablenew_tui.sim.adetailer import STAND_IN, STAND_IN_SAMPLER, DetailPlan, plan_detail
from stablenew_tui.sim.catalog import LATENT_UPSCALE_MODES, Checkpoint
from stablenew_tui.sim.errors import SimAnswer, SimHTTPError, SimServerError
from stablenew_tui.sim.faults import OOM_ERROR_CLASS, OOM_MESSAGE
from stablenew_tui.sim.images import decode_image
from stablenew_tui.sim.samplers import resolve_sampler
from stablenew_tui.sim.state import SimState

# modules/processing.py `process_images_inner`: these mean "no refiner".
_NO_REFINER = (None, "", "None", "none")
_LORA_TAG = re.compile(r"<lora:([^:>]+)(?::[^>]*)?>")
_MAX_SEED = 4294967294
# Larger than this and a real card runs out of memory; the simulator would too, in RAM.
MAX_PIXELS = 4096 * 4096


@dataclass
class HiresPlan:
    width: int
    height: int
    upscaler: str
    steps: int  # the second pass's step setting before denoising shortens it
    extra_params: dict[str, Any]


@dataclass
class JobPlan:
    kind: str  # "txt2img" or "img2img"
    request: Any  # the flavor's pydantic request model
    sampler: str
    scheduler: str | None
    prompts: list[str]
    negative_prompts: list[str]
    seeds: list[int]
    subseeds: list[int]
    hires: HiresPlan | None = None
    out_of_memory: bool = False  # SD.Next: the job runs out of memory and answers no images
    init_images: list[Image.Image] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)
    extra_params: dict[str, Any] = field(default_factory=dict)
    detail: DetailPlan | None = None  # what the ADetailer extension does to each image
    received: Any = None  # the request as sent, where an extension changed `request`

    def sampling_steps(self, steps: int) -> int:
        """Steps a pass really samples: img2img-like passes run only the denoised tail."""
        if self.kind == "txt2img":
            return steps
        return int(min(self.request.denoising_strength, 0.999) * steps) + 1


def fixed_seed(seed: int) -> int:
    return random.randrange(_MAX_SEED) if seed == -1 else seed


def plan_job(sim: SimState, kind: str, request: BaseModel) -> JobPlan:
    """Check a request in the order the real API does, then plan it.

    A1111 (modules/api/api.py `text2imgapi`, `img2imgapi`): missing init images, the selectable
    script, the sampler, the always-on scripts; then processing checks the refiner and hires
    checkpoints (modules/processing.py)."""
    req: Any = request
    flavor = sim.flavor
    if kind == "img2img" and req.init_images is None:
        if flavor.is_sdnext:
            raise SimAnswer(400, {"error": "Init image is none"})  # modules/api/generate.py
        raise SimHTTPError(404, "Init image not found")
    out_of_memory = _out_of_memory(sim, req.width, req.height, req.steps)
    check_scripts(flavor, kind, req.script_name, None)
    sampler, scheduler = resolve_sampler(
        flavor, req.sampler_name or req.sampler_index, getattr(req, "scheduler", None)
    )
    check_scripts(flavor, kind, None, req.alwayson_scripts)
    count = max(req.batch_size, 1) * max(req.n_iter, 1)
    seed, subseed = fixed_seed(req.seed), fixed_seed(req.subseed)
    styles = req.styles or []
    plan = JobPlan(
        kind=kind,
        request=req,
        sampler=sampler,
        scheduler=scheduler,
        prompts=[apply_styles(flavor, req.prompt, styles, negative=False)] * count,
        negative_prompts=[apply_styles(flavor, req.negative_prompt, styles, negative=True)] * count,
        # With a variation seed in use every image keeps the main seed, as in A1111.
        seeds=[seed + (i if req.subseed_strength == 0 else 0) for i in range(count)],
        subseeds=[subseed + i for i in range(count)],
        out_of_memory=out_of_memory,
        overrides=_checked_overrides(sim, req.override_settings or {}),
    )
    if req.refiner_checkpoint not in _NO_REFINER:
        _closest_checkpoint(sim, req.refiner_checkpoint)
    if kind == "txt2img" and req.enable_hr:
        plan.hires = _plan_hires(sim, req, sampler)
        size = (plan.hires.width, plan.hires.height)
        plan.out_of_memory |= _out_of_memory(sim, *size, req.steps)
    if kind == "img2img":
        plan.init_images = _init_images(req)
    plan.extra_params.update(_lora_hashes(sim, req.prompt))
    _plan_detail(plan)
    return plan


def _plan_detail(plan: JobPlan) -> None:
    """ADetailer's part: its infotext keys and, when it skips img2img, the stand-in pass."""
    plan.detail = plan_detail(plan.request.alwayson_scripts, plan.kind)
    if plan.detail is None:
        return
    plan.extra_params.update(plan.detail.infotext)
    if plan.detail.skip_img2img:
        plan.received = plan.request
        plan.request = plan.request.model_copy(update=STAND_IN)
        plan.sampler = STAND_IN_SAMPLER


def _closest_checkpoint(sim: SimState, name: str) -> Checkpoint:
    """modules/sd_models.py `get_closet_checkpoint_match`: an alias, else the shortest title
    containing the name."""
    found = sim.catalog.find_checkpoint(name) or min(
        (c for c in sim.catalog.checkpoints if name in c.title),
        key=lambda c: len(c.title),
        default=None,
    )
    if found is None:
        raise SimServerError("Exception", f"Could not find checkpoint with name {name}")
    return found


def _out_of_memory(sim: SimState, width: int, height: int, steps: int) -> bool:
    """True when SD.Next will run out of memory; A1111 and Forge answer the OOM as a 500."""
    if width < 8 or height < 8 or steps < 1:
        # The real server fails deep inside torch here; the simulator says why.
        raise SimServerError("RuntimeError", f"cannot sample {steps} steps at {width}x{height}")
    if width * height <= MAX_PIXELS:
        return False
    if sim.flavor.is_sdnext:
        return True
    raise SimServerError(OOM_ERROR_CLASS, OOM_MESSAGE)


def _checked_overrides(sim: SimState, overrides: dict[str, Any]) -> dict[str, Any]:
    overrides = dict(overrides)
    name = overrides.get("sd_model_checkpoint")
    if name is not None and sim.catalog.find_checkpoint(name) is None:
        # A1111, Forge and SD.Next drop an override naming no known checkpoint and keep the
        # loaded one (modules/processing.py, process_images: checkpoint_aliases.get() is None).
        del overrides["sd_model_checkpoint"]
    return overrides


def _plan_hires(sim: SimState, req: Any, sampler: str) -> HiresPlan:
    upscaler = req.hr_upscaler or "Latent"
    if upscaler not in LATENT_UPSCALE_MODES and upscaler not in sim.catalog.upscaler_names():
        raise SimServerError("AssertionError", f"could not find upscaler named {upscaler}")
    if sim.flavor.is_forge and req.hr_additional_modules is None:
        # Forge looks for "Use same choices" in the hires module list without checking for None
        # (modules/processing.py `StableDiffusionProcessingTxt2Img.sample_hr_pass`). The real
        # server fails after the first pass; the simulator before queueing, with the same answer.
        raise SimServerError("TypeError", "argument of type 'NoneType' is not iterable")
    width, height = req.width, req.height
    if req.hr_resize_x and req.hr_resize_y:
        target = (req.hr_resize_x, req.hr_resize_y)
    elif req.hr_resize_x:
        target = (req.hr_resize_x, round(req.hr_resize_x * height / width))
    elif req.hr_resize_y:
        target = (round(req.hr_resize_y * width / height), req.hr_resize_y)
    else:
        target = (int(width * req.hr_scale), int(height * req.hr_scale))
    extra: dict[str, Any] = {}
    if req.hr_resize_x or req.hr_resize_y:
        extra["Hires resize"] = f"{target[0]}x{target[1]}"
    else:
        extra["Hires upscale"] = req.hr_scale
    if req.hr_second_pass_steps:
        extra["Hires steps"] = req.hr_second_pass_steps
    extra["Hires upscaler"] = upscaler
    if req.hr_sampler_name and req.hr_sampler_name != sampler:
        extra["Hires sampler"] = req.hr_sampler_name
    if req.hr_checkpoint_name and req.hr_checkpoint_name != "Use same checkpoint":
        checkpoint = _closest_checkpoint(sim, req.hr_checkpoint_name)
        # CheckpointInfo.short_title
        short_title = checkpoint.short_name
        if checkpoint.shorthash:
            short_title += f" [{checkpoint.shorthash}]"
        extra["Hires checkpoint"] = short_title
    if req.hr_prompt and req.hr_prompt != req.prompt:
        extra["Hires prompt"] = req.hr_prompt
    if sim.flavor.is_forge:
        extra["Hires CFG Scale"] = req.hr_cfg
        # `StableDiffusionProcessingTxt2Img.init`: [] is "Built-in", "Use same choices" is kept.
        modules = req.hr_additional_modules
        if not modules:
            extra["Hires Module 1"] = "Built-in"
        elif "Use same choices" in modules:
            extra["Hires Module 1"] = "Use same choices"
        else:
            for number, module in enumerate(modules, start=1):
                extra[f"Hires Module {number}"] = module.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    steps = req.hr_second_pass_steps or req.steps
    return HiresPlan(target[0], target[1], upscaler, steps, extra)


def _init_images(req: Any) -> list[Image.Image]:
    if not req.init_images:
        raise SimServerError("IndexError", "list index out of range")
    if req.mask:
        decode_image(req.mask)
    images = []
    for encoded in req.init_images:
        if not isinstance(encoded, str):
            raise SimHTTPError(500, "Invalid encoded image")
        images.append(decode_image(encoded).convert("RGB"))
    return images


def _lora_hashes(sim: SimState, prompt: str) -> dict[str, str]:
    found = []
    for name in dict.fromkeys(_LORA_TAG.findall(prompt)):
        lora = sim.catalog.find_lora(name)
        if lora is not None:
            found.append(f"{name}: {lora.shorthash}")
    return {"Lora hashes": ", ".join(found)} if found else {}
