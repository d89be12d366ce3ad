"""The routes that make pictures: txt2img, img2img, extra-single-image, extra-batch-images, and
png-info, which reads their infotext back.

No `from __future__ import annotations` here: FastAPI reads the txt2img/img2img body models from
the handlers' annotations, and those models are local variables built per flavor.
"""

from typing import Any

from fastapi import FastAPI, Request
from PIL import Image
from pydantic import BaseModel

from stablenew_tui.sim import extras, images
from stablenew_tui.sim.errors import SimServerError
from stablenew_tui.sim.faults import OOM_ERROR_CLASS, OOM_MESSAGE
from stablenew_tui.sim.generate import run_job
from stablenew_tui.sim.models import (
    ExtrasBatchImagesRequest,
    ExtrasSingleImageRequest,
    PNGInfoRequest,
    ignored_fields,
    img2img_model,
    txt2img_model,
)
from stablenew_tui.sim.plan import MAX_PIXELS, plan_job
from stablenew_tui.sim.routes_api import API
from stablenew_tui.sim.state import SimState


def note_ignored_fields(request: Request, model: type[BaseModel]) -> None:
    """Write the body keys the endpoint ignored into the request log entry."""
    record = getattr(request.state, "sim_record", None)
    if record is not None:
        record.ignored_fields = ignored_fields(model, record.body)


def add_generation_routes(app: FastAPI, sim: SimState) -> None:
    txt2img_request = txt2img_model(sim.flavor)
    img2img_request = img2img_model(sim.flavor)

    async def txt2img(request: Request, body: txt2img_request) -> dict[str, Any]:  # type: ignore[valid-type]
        note_ignored_fields(request, txt2img_request)
        return await run_job(sim, plan_job(sim, "txt2img", body))

    async def img2img(request: Request, body: img2img_request) -> dict[str, Any]:  # type: ignore[valid-type]
        note_ignored_fields(request, img2img_request)
        return await run_job(sim, plan_job(sim, "img2img", body))

    app.post(f"{API}/txt2img")(txt2img)
    app.post(f"{API}/img2img")(img2img)

    @app.post(f"{API}/extra-single-image")
    async def extra_single_image(
        request: Request, body: ExtrasSingleImageRequest
    ) -> dict[str, Any]:
        note_ignored_fields(request, ExtrasSingleImageRequest)
        source = _checked_source(body, images.decode_image(body.image))
        extras.check_upscalers(sim, body)
        [encoded] = await extras.run_extras(sim, body, [source])
        return {"html_info": extras.html_info(extras.describe(body)), "image": encoded}

    @app.post(f"{API}/extra-batch-images")
    async def extra_batch_images(
        request: Request, body: ExtrasBatchImagesRequest
    ) -> dict[str, Any]:
        note_ignored_fields(request, ExtrasBatchImagesRequest)
        sources = [_checked_source(body, images.decode_image(item.data)) for item in body.imageList]
        extras.check_upscalers(sim, body)
        encoded = await extras.run_extras(sim, body, sources)
        return {"html_info": extras.html_info(extras.describe(body)), "images": encoded}

    @app.post(f"{API}/png-info")
    async def png_info(request: Request, body: PNGInfoRequest) -> dict[str, Any]:
        note_ignored_fields(request, PNGInfoRequest)
        return extras.png_info(body.image)


def _checked_source(
    request: ExtrasSingleImageRequest | ExtrasBatchImagesRequest, source: Image.Image
) -> Image.Image:
    width, height = extras.target_size(request, *source.size)
    if request.upscaler_1 != "None" and width * height > 4 * MAX_PIXELS:
        raise SimServerError(OOM_ERROR_CLASS, OOM_MESSAGE)
    return source
