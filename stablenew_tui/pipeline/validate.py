"""Names in the settings checked against what the node offers, before anything is sent.

Since v1.9 the WebUI silently falls back to its default for an unknown sampler or scheduler,
so a typo would quietly produce different images. Checking here turns it into a clear message
with the closest names that exist.
"""

from __future__ import annotations

import difflib

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.webui.requests import VAE_AUTOMATIC, VAE_NONE
from stablenew_tui.webui.resources import ResourceCatalog


def check_names(settings: PipelineSettings, catalog: ResourceCatalog, node: str) -> None:
    txt2img, img2img, upscale = settings.txt2img, settings.img2img, settings.upscale
    _check_model("txt2img.model", txt2img.model, catalog, node)
    _check_model("txt2img.refiner", txt2img.refiner, catalog, node)
    _check("txt2img.vae", txt2img.vae, [VAE_AUTOMATIC, VAE_NONE, *catalog.vaes], node)
    _check("txt2img.sampler", txt2img.sampler, catalog.samplers, node)
    hires_upscalers = [*catalog.upscalers, *catalog.latent_upscale_modes]
    if txt2img.hires:
        _check("txt2img.hires_upscaler", txt2img.hires_upscaler, hires_upscalers, node)
        _check("txt2img.hires_sampler", txt2img.hires_sampler, catalog.samplers, node)
    if catalog.schedulers_supported:
        _check("txt2img.scheduler", txt2img.scheduler, catalog.schedulers, node)
    if settings.enabled("img2img"):
        _check_model("img2img.model", img2img.model, catalog, node)
        _check("img2img.sampler", img2img.sampler, catalog.samplers, node)
        if catalog.schedulers_supported:
            _check("img2img.scheduler", img2img.scheduler, catalog.schedulers, node)
    if settings.enabled("upscale") and upscale.method == "extras":
        _check("upscale.upscaler", upscale.upscaler, catalog.upscalers, node)
        if upscale.upscaler_2_visibility > 0:
            _check("upscale.upscaler_2", upscale.upscaler_2, catalog.upscalers, node)


def _check_model(key: str, value: str | None, catalog: ResourceCatalog, node: str) -> None:
    """Checkpoints go by title, file name, model name or hash, as the WebUI accepts them."""
    if value is None or any(model.matches(value) for model in catalog.model_details):
        return
    _check(key, value, catalog.models, node)


def _check(key: str, value: str | None, known: list[str], node: str) -> None:
    if value is None or not known or value in known:
        return
    # Schedulers have a name and a label ("karras" / "Karras"); accept either spelling.
    if value.lower() in {name.lower() for name in known} and key.endswith("scheduler"):
        return
    close = difflib.get_close_matches(value, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(name) for name in close)}?" if close else ""
    raise InputError(f"{key}: {node} has no {value!r}{hint}")
