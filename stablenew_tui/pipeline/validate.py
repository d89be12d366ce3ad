"""Names in the settings checked against what the node offers, before anything is sent.

Since v1.9 the WebUI silently falls back to its default for an unknown sampler or scheduler,
so a typo would quietly produce different images. Checking here turns it into a clear message
with the closest names that exist.

Where the schedule is no separate field, a scheduler is checked as the server will read it.
Before 1.9 it is part of the sampler's name (`modules/sd_samplers_kdiffusion.py`, "DPM++ 2M
Karras"), so the combined name must be one the node lists. SD.Next has neither: its samplers are
diffusers schedulers matched by their whole name, none naming a schedule
(`modules/sd_samplers.py`, `find_sampler`; `modules/sd_samplers_diffusers.py`), and the sigma
schedule is a server setting that falls back to the default, with only a log line, for a
sampler without it. A schedule asked of it could not be kept, so it is refused.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.jobs import PromptSpec
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.pipeline.stage_requests import img2img_sampling
from stablenew_tui.pipeline.variants import NO_HYPERNETWORK
from stablenew_tui.webui.requests import (
    VAE_AUTOMATIC,
    VAE_NONE,
    combined_sampler_name,
    schedule_label,
)
from stablenew_tui.webui.resources import ADETAILER, ResourceCatalog


def check_names(
    settings: PipelineSettings,
    catalog: ResourceCatalog,
    node: str,
    specs: Sequence[PromptSpec] = (),
) -> None:
    """`specs` are the run's jobs: the checkpoints and VAEs their prompts name are checked too."""
    txt2img, img2img, upscale = settings.txt2img, settings.img2img, settings.upscale
    vaes = [VAE_AUTOMATIC, VAE_NONE, *catalog.vaes]
    for model in txt2img.models:
        _check_model("txt2img.model", model, catalog, node)
    for vae in txt2img.vaes:
        _check("txt2img.vae", vae, vaes, node)
    for spec in _own_weights(settings, specs):
        where = f"the prompt {_short(spec.prompt)}"
        _check_model(f"model of {where}", spec.model, catalog, node)
        _check(f"VAE of {where}", spec.vae, vaes, node)
    for choice in settings.variants.hypernetworks:
        if choice.name.casefold() != NO_HYPERNETWORK:
            _check("variants.hypernetworks", choice.name, catalog.hypernetworks, node, listed=True)
    _check_model("txt2img.refiner", txt2img.refiner, catalog, node)
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
    _check_schedules(settings, catalog, node)
    if settings.enabled("adetailer"):
        _check_adetailer(settings, catalog, node)
    if settings.enabled("upscale") and upscale.method == "extras":
        _check("upscale.upscaler", upscale.upscaler, catalog.upscalers, node)
        if upscale.upscaler_2_visibility > 0:
            _check("upscale.upscaler_2", upscale.upscaler_2, catalog.upscalers, node)


def _check_adetailer(settings: PipelineSettings, catalog: ResourceCatalog, node: str) -> None:
    """The stage runs only where the extension is installed: it shows in the scripts list."""
    if ADETAILER not in catalog.scripts.img2img:
        raise InputError(
            f"adetailer: {node} does not have the ADetailer extension (its img2img scripts do "
            "not list it); install it there, or leave the adetailer stage out"
        )
    stage = settings.adetailer
    _check("adetailer.model", stage.model, catalog.adetailer_models, node)
    _check("adetailer.sampler", stage.sampler, catalog.samplers, node)


def _check_schedules(settings: PipelineSettings, catalog: ResourceCatalog, node: str) -> None:
    """Each pass's sampler and scheduler, on a server without a separate scheduler."""
    server = catalog.server
    if catalog.schedulers_supported or server is None:  # None: the API has not answered yet
        return
    txt2img, upscale = settings.txt2img, settings.upscale
    passes = [("txt2img.scheduler", txt2img.sampler, txt2img.scheduler)]
    upscaled_by_img2img = settings.enabled("upscale") and upscale.method == "img2img"
    if settings.enabled("img2img") or settings.enabled("adetailer") or upscaled_by_img2img:
        sampling, own = img2img_sampling(settings), settings.img2img
        # Named by the pass's own choice, the one that differs from txt2img's.
        key = (
            "img2img.scheduler" if own.scheduler
            else "img2img.sampler" if own.sampler
            else "txt2img.scheduler"
        )  # fmt: skip
        passes.append((key, sampling["sampler_name"], sampling["scheduler"]))
    for key, sampler, scheduler in passes:
        label = schedule_label(scheduler)
        if label is None:
            continue
        if server.flavor == "sdnext":
            raise InputError(
                f"{key}: {node} is SD.Next, which has no separate scheduler and no sampler "
                f'named with one, so {scheduler!r} cannot be kept (its own "Sigma method" '
                "setting picks the schedule); set the scheduler to Automatic "
                "(--scheduler automatic)"
            )
        if combined_sampler_name(sampler, scheduler) in catalog.samplers:
            continue
        variants = [name for name in catalog.samplers if name.endswith(f" {label}")]
        choices = ", ".join(repr(name) for name in variants)
        choose = f"choose one of {choices}" if variants else f"none of its samplers has {label}"
        raise InputError(
            f"{key}: {sampler!r} has no {label} variant on {node} ({server.describe()} names "
            f"the schedule in the sampler): {choose}, or set the scheduler to Automatic "
            "(--scheduler automatic)"
        )


def _own_weights(settings: PipelineSettings, specs: Sequence[PromptSpec]) -> list[PromptSpec]:
    """One job per checkpoint and VAE a prompt names beyond the settings' own."""
    chosen = {(model, vae) for model in settings.txt2img.models for vae in settings.txt2img.vaes}
    found: dict[tuple[str | None, str | None], PromptSpec] = {}
    for spec in specs:
        if (spec.model, spec.vae) not in chosen:
            found.setdefault((spec.model, spec.vae), spec)
    return list(found.values())


def _short(prompt: str, length: int = 40) -> str:
    return repr(prompt if len(prompt) <= length else prompt[: length - 1] + "…")


def _check_model(key: str, value: str | None, catalog: ResourceCatalog, node: str) -> None:
    """Checkpoints go by title, file name, model name or hash, as the WebUI accepts them."""
    if value is None or catalog.checkpoint(value) is not None:
        return
    _check(key, value, catalog.models, node)


def _check(
    key: str, value: str | None, known: list[str], node: str, *, listed: bool = False
) -> None:
    """`listed`: the node's list is the whole truth, so an empty one refuses every name
    (otherwise an empty list means the node did not say, and anything goes)."""
    if value is None or (not known and not listed) or value in known:
        return
    # Schedulers have a name and a label ("karras" / "Karras"); accept either spelling.
    if value.lower() in {name.lower() for name in known} and key.endswith("scheduler"):
        return
    close = difflib.get_close_matches(value, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(name) for name in close)}?" if close else ""
    raise InputError(f"{key}: {node} has no {value!r}{hint}")
