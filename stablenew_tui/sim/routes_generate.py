"""The routes that make or read pictures: txt2img, img2img, extra-single-image,
extra-batch-images, png-info, which reads their infotext back, and interrogate.

No `from __future__ import annotations` here: FastAPI reads the request body models from the
handlers' annotations, and those models are local variables built per flavor.
"""

from typing import Any

from fastapi import Request
from PIL import Image
from pydantic import BaseModel

from stablenew_tui.sim import extras, images
from stablenew_tui.sim.errors import SimServerError
from stablenew_tui.sim.faults import OOM_ERROR_CLASS, OOM_MESSAGE
from stablenew_tui.sim.generate import run_job
from stablenew_tui.sim.models import (
    InterrogateRequest,
    PNGInfoRequest,
    extras_models,
    ignored_fields,
    img2img_model,
    txt2img_model,
)
from stablenew_tui.sim.plan import MAX_PIXELS, plan_job
from stablenew_tui.sim.routing import Routes
from stablenew_tui.sim.state import SimState


def note_ignored_fields(request: Request, model: type[BaseModel]) -> None:
    """Write the body keys the endpoint ignored into the request log entry."""
    record = getattr(request.state, "sim_record", None)
    if record is not None:
        record.ignored_fields = ignored_fields(model, record.body)


def add_generation_routes(routes: Routes, sim: SimState) -> None:
    txt2img_request = txt2img_model(sim.flavor)
    img2img_request = img2img_model(sim.flavor)
    single_request, batch_request = extras_models(sim.flavor)

    async def generate(request: Request, kind: str, body: Any) -> dict[str, Any]:
        with sim.engine.generation():
            plan = plan_job(sim, kind, body)
            plan.out_of_memory |= getattr(request.state, "sim_out_of_memory", False)
            if sim.checkpoint_missing():
                # SD.Next with no model loaded: `process_images` returns None
                # (modules/processing.py) and the API answers with nothing
                # (modules/api/generate.py).
                return {"images": [], "parameters": body.model_dump(), "info": ""}
            return await run_job(sim, plan)

    async def txt2img(request: Request, body: txt2img_request) -> dict[str, Any]:  # type: ignore[valid-type]
        note_ignored_fields(request, txt2img_request)
        return await generate(request, "txt2img", body)

    async def img2img(request: Request, body: img2img_request) -> dict[str, Any]:  # type: ignore[valid-type]
        note_ignored_fields(request, img2img_request)
        return await generate(request, "img2img", body)

    routes.post("txt2img")(txt2img)
    routes.post("img2img")(img2img)

    async def extra_single_image(request: Request, body: single_request) -> dict[str, Any]:  # type: ignore[valid-type]
        note_ignored_fields(request, single_request)
        fields: Any = body  # a model made per flavor at start-up: its fields are not typed
        source = _checked_source(body, images.decode_image(fields.image))
        extras.check_upscalers(sim, body)
        [encoded] = await extras.run_extras(sim, body, [source])
        return {"html_info": extras.html_info(extras.describe(body)), "image": encoded}

    async def extra_batch_images(request: Request, body: batch_request) -> dict[str, Any]:  # type: ignore[valid-type]
        note_ignored_fields(request, batch_request)
        fields: Any = body  # a model made per flavor at start-up: its fields are not typed
        sources = [_checked_source(body, images.decode_image(i.data)) for i in fields.imageList]
        extras.check_upscalers(sim, body)
        encoded = await extras.run_extras(sim, body, sources)
        return {"html_info": extras.html_info(extras.describe(body)), "images": encoded}

    routes.post("extra-single-image")(extra_single_image)
    routes.post("extra-batch-images")(extra_batch_images)

    @routes.post("png-info")
    async def png_info(request: Request, body: PNGInfoRequest) -> dict[str, Any]:
        note_ignored_fields(request, PNGInfoRequest)
        if sim.flavor.is_sdnext and not body.image.strip():
            return {"info": "", "items": {}, "parameters": {}}  # modules/api/endpoints.py
        return extras.png_info(body.image)

    @routes.post("interrogate")
    async def interrogate(request: Request, body: InterrogateRequest) -> dict[str, Any]:
        note_ignored_fields(request, InterrogateRequest)
        async with sim.engine.queued():
            return extras.interrogate(body.image, body.model)


def _checked_source(request: Any, source: Image.Image) -> Image.Image:
    width, height = extras.target_size(request, *source.size)
    if request.upscaler_1 != "None" and width * height > 4 * MAX_PIXELS:
        raise SimServerError(OOM_ERROR_CLASS, OOM_MESSAGE)
    return source
