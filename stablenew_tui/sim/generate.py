"""Running a planned txt2img/img2img job: queue, sample with progress, draw, answer like A1111.

Per batch (n_iter) the job samples all `batch_size` images together; hires fix adds a second
pass per batch (and doubles job_count, as A1111 does). An interrupt ends the job after the
current pass and a skip ends the current batch early; either way the partly sampled images are
returned, because A1111 returns them too. SD.Next drops a stopped pass instead.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from PIL import Image

from stablenew_tui.sim import adetailer, images, sdnext
from stablenew_tui.sim.encoding import AnswerFormat, encode_picture
from stablenew_tui.sim.engine import PreviewSource
from stablenew_tui.sim.errors import SimServerError
from stablenew_tui.sim.infotext import build_infotext
from stablenew_tui.sim.plan import JobPlan
from stablenew_tui.sim.state import SimState, VaeChoice

# An encoded image and, while a grid may still need it, the picture itself.
Picture = tuple[str, Image.Image | None]


def megapixels(width: int, height: int) -> float:
    return width * height / 1_000_000


async def run_job(sim: SimState, plan: JobPlan) -> dict[str, Any]:
    req = plan.request
    engine = sim.engine
    async with engine.queued():
        # The servers encode the answer after process_images has put overridden options back
        # (A1111 `modules/api/api.py` text2imgapi), so an overridden format shows only if kept.
        kept = {} if req.override_settings_restore_afterwards else plan.overrides
        answer_format = AnswerFormat.from_options({**sim.options, **kept}, sim.flavor)
        stored = _apply_overrides(sim, plan.overrides)
        try:
            engine.begin(_job_name(sim, plan))
            try:
                await sim.load_wanted_weights()
                engine.state.job_count = req.n_iter * (2 if plan.hires else 1)
                if plan.out_of_memory:
                    # SD.Next catches the CUDA error inside the pipeline and stops the job.
                    sim.out_of_memory_events += 1
                    engine.state.interrupted = True
                pictures, infotexts = await _run_batches(sim, plan, answer_format)
                grid_first = (
                    req.save_images
                    and len(pictures) >= 2
                    and bool(sim.options.get("return_grid") or sim.options.get("grid_save"))
                )
                if grid_first:
                    grid = await asyncio.to_thread(
                        _encode_grid, pictures, _embedded(sim, infotexts[0]), answer_format
                    )
                    pictures.insert(0, grid)
                    infotexts.insert(0, infotexts[0])
                # Built before the overrides are restored: it reports what the job ran with.
                info = _info(sim, plan, infotexts, engine.state.job_timestamp, int(grid_first))
                if sim.flavor.is_sdnext:
                    info = sdnext.info(info, _infotext(sim, plan, 0))
            finally:
                engine.end()
        finally:
            if req.override_settings_restore_afterwards:
                await _restore(sim, stored)
    parameters = (plan.received or req).model_dump()
    if plan.kind == "img2img" and not req.include_init_images:
        parameters["init_images"] = parameters["mask"] = None
    return {
        "images": [encoded for encoded, _ in pictures] if req.send_images else [],
        "parameters": parameters,
        "info": json.dumps(info),
    }


def _apply_overrides(sim: SimState, overrides: dict[str, Any]) -> dict[str, Any]:
    """Set a request's override_settings for its run, as process_images does
    (`modules/processing.py` in A1111, Forge and SD.Next); returns the values to restore.

    Overrides go through the same opts.set as POST options, so settings this server will not
    change (`freeze_settings`) stay as they are and the image is made with what is loaded."""
    stored = {key: sim.options[key] for key in overrides if key in sim.options}
    if not sim.freeze_settings:
        sim.store_options(overrides)
    return stored


async def _restore(sim: SimState, stored: dict[str, Any]) -> None:
    """Put overridden settings back after the run, each server in its own way."""
    sim.options.update(stored)
    if sim.flavor.is_forge:
        # set_config(stored_opts) only refreshes the loading parameters; the next generation
        # loads what they name (modules_forge/main_entry.py, checkpoint_change).
        return
    if sim.flavor.name == "sdnext":
        # SD.Next reloads the restored checkpoint and VAE at once.
        await sim.load_wanted_weights()
        return
    # A1111 sets the options back and reloads only the VAE; the checkpoint stays loaded until
    # a request without an override of its own reloads the one the options name.
    await sim.load_wanted_vae()


async def _run_batches(
    sim: SimState, plan: JobPlan, answer_format: AnswerFormat
) -> tuple[list[Picture], list[str]]:
    req, engine, hires = plan.request, sim.engine, plan.hires
    batch_size = max(req.batch_size, 1)
    model_key = sim.loaded_checkpoint.relative_path
    size = (hires.width, hires.height) if hires else (req.width, req.height)
    pictures: list[Picture] = []
    infotexts: list[str] = []
    skip_next = False
    for batch in range(max(req.n_iter, 1)):
        if engine.state.interrupted:
            break
        if skip_next:
            # SD.Next leaves `skipped` set after the skipped pass, and its batch loop then
            # skips the next batch too (modules/processing.py `process_images_inner`).
            skip_next = False
            continue
        first = batch * batch_size
        # A1111 names the job per batch only when there are several (`process_images_inner`).
        label = f"Batch {batch + 1} out of {req.n_iter}" if req.n_iter > 1 else None
        preview = PreviewSource(plan.prompts[first], plan.seeds[first], size[0], size[1], model_key)
        passes = 2 if hires else 1
        engine.next_job(batch * passes, label, preview)
        steps = plan.sampling_steps(req.steps)
        done = await engine.sample(steps, megapixels(req.width, req.height) * batch_size)
        fraction, drawn_size = done / steps, (req.width, req.height)
        if hires and not engine.state.interrupted:
            if req.denoising_strength is None:
                # What A1111 does with hires and no denoising strength: min(None, 0.999).
                raise SimServerError(
                    "TypeError", "'<' not supported between instances of 'float' and 'NoneType'"
                )
            engine.next_job(batch * passes + 1, label, preview)
            hr_steps = int(min(req.denoising_strength, 0.999) * hires.steps) + 1
            done = await engine.sample(hr_steps, megapixels(*size) * batch_size)
            fraction, drawn_size = done / hr_steps, size
        if sim.flavor.is_sdnext and (engine.state.interrupted or engine.state.skipped):
            # SD.Next drops the pass it stopped (modules/processing_diffusers.py).
            skip_next = engine.state.skipped
            continue
        if plan.detail is not None and fraction >= 1:
            await _sample_details(sim, plan, first, batch_size)
        for index in range(first, first + batch_size):
            text = _infotext(sim, plan, index)
            encoded = await asyncio.to_thread(
                _render, plan, index, model_key, drawn_size, fraction,
                _embedded(sim, text), answer_format,
            )  # fmt: skip
            pictures.append(encoded)
            infotexts.append(text)
    return pictures, infotexts


async def _sample_details(sim: SimState, plan: JobPlan, first: int, batch_size: int) -> None:
    """ADetailer inpaints each region it finds, one after another, after the image's pass."""
    assert plan.detail is not None
    asked = plan.received or plan.request
    for index in range(first, first + batch_size):
        for _, table in plan.detail.passes:
            regions = adetailer.detect(table, asked.width, asked.height, plan.seeds[index])
            for _ in regions:
                steps = adetailer.detail_steps(table, asked.steps)
                await sim.engine.sample(steps, megapixels(asked.width, asked.height))


def _render(
    plan: JobPlan,
    index: int,
    model_key: str,
    size: tuple[int, int],
    fraction: float,
    embedded: dict[str, str],
    answer_format: AnswerFormat,
) -> Picture:
    detail = plan.detail
    if detail is not None and detail.skip_img2img:
        # img2img skipped: the image as sent, whatever the stand-in pass drew.
        picture = plan.init_images[index % len(plan.init_images)].convert("RGB")
    else:
        picture = images.draw_scene(plan.prompts[index], plan.seeds[index], *size, model_key)
        if plan.init_images:
            init = plan.init_images[index % len(plan.init_images)]
            init = images.fit(init, *size, plan.request.resize_mode)
            picture = images.blend_into(init, picture, plan.request.denoising_strength)
        picture = images.unfinished(picture, fraction)
    if detail is not None and fraction >= 1:
        prompt, seed = plan.prompts[index], plan.seeds[index]
        picture = adetailer.redraw(picture, detail, prompt, seed, model_key)
    encoded = encode_picture(picture, embedded, answer_format)
    # Pictures are kept only while a grid may need them: a long batch would pile up otherwise.
    return encoded, picture if plan.request.save_images else None


def _encode_grid(
    pictures: list[Picture], embedded: dict[str, str], answer_format: AnswerFormat
) -> Picture:
    sheet = images.grid([picture for _, picture in pictures if picture is not None])
    return encode_picture(sheet, embedded, answer_format), None


def _embedded(sim: SimState, infotext: str) -> dict[str, str]:
    """The info a picture carries into the encoder: its infotext, where `enable_pnginfo` is on
    (A1111 `modules/processing.py` sets image.info["parameters"] for images and the grid)."""
    return {"parameters": infotext} if sim.options.get("enable_pnginfo", True) else {}


def _job_name(sim: SimState, plan: JobPlan) -> str:
    if sim.flavor.is_sdnext:
        return "API-TXT" if plan.kind == "txt2img" else "API-IMG"  # modules/api/generate.py
    return f"scripts_{plan.kind}"  # modules/api/api.py `text2imgapi`


def _infotext(sim: SimState, plan: JobPlan, index: int) -> str:
    return build_infotext(
        plan.prompts[index], plan.negative_prompts[index], _params(sim, plan, index)
    )


def _params(sim: SimState, plan: JobPlan, index: int) -> dict[str, Any]:
    """The infotext's parameter line for image `index`, in A1111's order."""
    req, flavor = plan.request, sim.flavor
    checkpoint, vae = sim.loaded_checkpoint, sim.loaded_vae
    clip_skip = int(sim.options.get("CLIP_stop_at_last_layers") or 1)
    hires, is_flux = plan.hires, checkpoint.architecture == "flux"
    variation = req.subseed_strength > 0
    params: dict[str, Any] = {
        "Steps": req.steps,
        "Sampler": plan.sampler,
        "Schedule type": plan.scheduler,
        "CFG scale": req.cfg_scale,
        "Distilled CFG Scale": req.distilled_cfg_scale if flavor.is_forge and is_flux else None,
        "Seed": plan.seeds[index],
        "Face restoration": "CodeFormer" if req.restore_faces else None,
        "Size": f"{req.width}x{req.height}",
        "Model hash": checkpoint.shorthash if sim.options.get("add_model_hash_to_info") else None,
        "Model": checkpoint.short_name if sim.options.get("add_model_name_to_info") else None,
        # Forge leaves the VAE out (its create_infotext has these lines commented out) and
        # lists its additional modules instead, below.
        "VAE hash": None if flavor.is_forge else vae.shorthash,
        "VAE": None if flavor.is_forge else vae.name,
        "Variation seed": plan.subseeds[index] if variation else None,
        "Variation seed strength": req.subseed_strength if variation else None,
        "Denoising strength": req.denoising_strength if hires or plan.init_images else None,
        "Clip skip": clip_skip if clip_skip > 1 else None,
        "Tiling": True if req.tiling else None,
    }
    params.update(_extra_params(sim, plan))
    if sim.options.get("add_version_to_infotext", True):
        params["Version"] = flavor.version
    return params


def _extra_params(sim: SimState, plan: JobPlan) -> dict[str, Any]:
    extra = dict(plan.hires.extra_params) if plan.hires else {}
    extra.update(plan.extra_params)
    for number, module in enumerate(sim.modules(), start=1):
        extra[f"Module {number}"] = module
    return extra


def _info(
    sim: SimState,
    plan: JobPlan,
    infotexts: list[str],
    job_timestamp: str,
    index_of_first_image: int,
) -> dict[str, Any]:
    """The `info` object, whose JSON text the answer carries; keys as Processed.js() has them."""
    req = plan.request
    checkpoint = sim.loaded_checkpoint
    # Forge never sets sd_vae.loaded_vae_file, so its sd_vae_name and sd_vae_hash are None.
    vae = VaeChoice() if sim.flavor.is_forge else sim.loaded_vae
    return {
        "prompt": plan.prompts[0],
        "all_prompts": plan.prompts,
        "negative_prompt": plan.negative_prompts[0],
        "all_negative_prompts": plan.negative_prompts,
        "seed": plan.seeds[0],
        "all_seeds": plan.seeds,
        "subseed": plan.subseeds[0],
        "all_subseeds": plan.subseeds,
        "subseed_strength": req.subseed_strength,
        "width": req.width,
        "height": req.height,
        "sampler_name": plan.sampler,
        "cfg_scale": req.cfg_scale,
        "steps": req.steps,
        "batch_size": req.batch_size,
        "restore_faces": bool(req.restore_faces),
        "face_restoration_model": "CodeFormer" if req.restore_faces else None,
        "sd_model_name": checkpoint.short_name,
        "sd_model_hash": checkpoint.shorthash,
        "sd_vae_name": vae.name,
        "sd_vae_hash": vae.shorthash,
        "seed_resize_from_w": req.seed_resize_from_w,
        "seed_resize_from_h": req.seed_resize_from_h,
        "denoising_strength": req.denoising_strength,
        "extra_generation_params": _extra_params(sim, plan),
        "index_of_first_image": index_of_first_image,
        "infotexts": infotexts,
        "styles": req.styles or [],
        "job_timestamp": job_timestamp,
        "clip_skip": int(sim.options.get("CLIP_stop_at_last_layers") or 1),
        "is_using_inpainting_conditioning": False,
        "version": sim.flavor.version,
    }
