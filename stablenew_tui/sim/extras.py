"""The Extras tab over HTTP: upscale one image or a batch, and read an image's infotext back.

As in A1111, upscaler "None" leaves the image as it is, an unknown upscaler is an assertion
failure (500), the source's infotext (PNG text chunk or EXIF) survives and the operation is
described in an extra `postprocessing` item and in `html_info`. The result is encoded in the
`samples_format` of the moment, like every image the API sends (`sim.encoding`).
"""

from __future__ import annotations

import asyncio
import html
from typing import Any

from PIL import Image

from stablenew_tui.sim import images
from stablenew_tui.sim.encoding import AnswerFormat, encode_picture, read_info
from stablenew_tui.sim.errors import SimHTTPError, SimServerError
from stablenew_tui.sim.infotext import parse_infotext
from stablenew_tui.sim.state import SimState

# Seconds per output megapixel at speed 1: plain resizers are nearly free, GAN upscalers not.
_FAST_UPSCALERS = frozenset({"None", "Lanczos", "Nearest"})
FAST_SECONDS_PER_MEGAPIXEL = 0.02
MODEL_SECONDS_PER_MEGAPIXEL = 1.5


def check_upscalers(sim: SimState, request: Any) -> None:
    known = sim.catalog.upscaler_names()
    for name in (request.upscaler_1, request.upscaler_2):
        if name not in known:
            raise SimServerError("AssertionError", f"could not find upscaler named {name}")


def target_size(request: Any, width: int, height: int) -> tuple[int, int]:
    if request.resize_mode == 1:
        return request.upscaling_resize_w, request.upscaling_resize_h
    return int(width * request.upscaling_resize), int(height * request.upscaling_resize)


def describe(request: Any) -> str:
    """The `postprocessing` infotext for what the request asks."""
    if request.upscaler_1 == "None":
        return ""
    if request.resize_mode == 1:
        scale = f"Postprocess upscale to: {request.upscaling_resize_w}x{request.upscaling_resize_h}"
    else:
        scale = f"Postprocess upscale by: {request.upscaling_resize:g}"
    parts = [scale, f"Postprocess upscaler: {request.upscaler_1}"]
    if request.upscaler_2 != "None" and request.extras_upscaler_2_visibility > 0:
        parts.append(f"Postprocess upscaler 2: {request.upscaler_2}")
    return ", ".join(parts)


def html_info(infotext: str) -> str:
    return "<p>" + "<br>\n".join(html.escape(line) for line in infotext.split("\n")) + "</p>"


def _upscaled(source: Image.Image, request: Any) -> Image.Image:
    if source.mode not in ("RGB", "RGBA"):
        source = source.convert("RGB")
    if request.upscaler_1 == "None":
        return source
    width, height = target_size(request, *source.size)
    if request.resize_mode == 1 and request.upscaling_crop:
        # Upscale until both sides cover the target, then crop the middle, as A1111 does.
        scale = max(width / source.width, height / source.height)
        cover = (round(source.width * scale), round(source.height * scale))
        result = images.upscale(source, *cover, request.upscaler_1)
        left, top = (cover[0] - width) // 2, (cover[1] - height) // 2
        result = result.crop((left, top, left + width, top + height))
    else:
        result = images.upscale(source, width, height, request.upscaler_1)
    if request.upscaler_2 != "None" and request.extras_upscaler_2_visibility > 0:
        second = images.upscale(source, *result.size, request.upscaler_2)
        result = Image.blend(
            result, second.convert(result.mode), request.extras_upscaler_2_visibility
        )
    return result


def _process(source: Image.Image, request: Any, infotext: str, answer_format: AnswerFormat) -> str:
    parameters, items = read_info(source)
    if parameters:
        items["parameters"] = parameters
    if infotext:
        items["postprocessing"] = infotext
    return encode_picture(_upscaled(source, request), items, answer_format)


async def run_extras(sim: SimState, request: Any, sources: list[Image.Image]) -> list[str]:
    """Upscale each source under the queue lock; base64 images in order."""
    infotext = describe(request)
    answer_format = AnswerFormat.from_options(sim.options, sim.flavor)
    encoded = []
    async with sim.engine.queued():
        for source in sources:
            if request.upscaler_1 not in _FAST_UPSCALERS:
                width, height = target_size(request, *source.size)
                await sim.engine.spend(width * height / 1e6 * MODEL_SECONDS_PER_MEGAPIXEL)
            elif request.upscaler_1 != "None":
                await sim.engine.spend(FAST_SECONDS_PER_MEGAPIXEL)
            encoded.append(
                await asyncio.to_thread(_process, source, request, infotext, answer_format)
            )
    return encoded


def interrogate(encoded: str, model: str) -> dict[str, Any]:
    """POST /interrogate (A1111 `Api.interrogateapi`): the image is decoded first, then the
    model is chosen; "clip" describes, "deepdanbooru" tags. The simulator's pictures are drawn
    from prompt words, so "seeing" one means reading those words back from its infotext."""
    infotext = read_info(images.decode_image(encoded))[0] or ""
    words = images.prompt_words(parse_infotext(infotext)["Prompt"])
    if model == "clip":
        subject = " ".join(words[:6]) if words else "an abstract landscape"
        return {"caption": f"a picture of {subject}, digital art, trending on artstation"}
    if model == "deepdanbooru":
        return {"caption": ", ".join(dict.fromkeys(words or ["no humans", "scenery"]))}
    raise SimHTTPError(404, "Model not found")


def png_info(encoded: str) -> dict[str, Any]:
    image = images.decode_image(encoded.strip())
    infotext, items = read_info(image)
    infotext = infotext or ""
    return {"info": infotext, "items": items, "parameters": parse_infotext(infotext)}
