"""The checkpoint and VAE of jobs that name none: those the run's first node has loaded.

A generation request without `override_settings` is made with whatever its node holds when the
request gets there, and any client may change that between two requests: a request naming its
own checkpoint with `override_settings_restore_afterwards` false (what this app sends, so that
a node does not reload for nothing) leaves that checkpoint loaded and in the options
(`modules/processing.py`, `process_images`), and so does a POST to the options. A run naming no
checkpoint would then be made partly with another one. So when a run is planned, each job that
names no checkpoint takes the one the first node would use for it, its `sd_model_checkpoint`
option, and names it like a chosen one; the jobs keep it, so a resumed run is made with it too.

The VAE likewise: A1111 and SD.Next keep it in the `sd_vae` option, which the same requests
change. "Automatic" is kept as such: it picks by the checkpoint, which is now fixed. Forge keeps
its VAE and text encoders in `forge_additional_modules` (`modules_forge/main_entry.py`); a job
names at most one module, so a node with several keeps its own, and the run says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.cluster import NodeHandle
from stablenew_tui.pipeline.jobs import PromptSpec
from stablenew_tui.webui.requests import VAE_AUTOMATIC
from stablenew_tui.webui.resources import ResourceCatalog


@dataclass
class LoadedWeights:
    """What the first node has loaded; None where it cannot be named."""

    model: str | None = None
    vae: str | None = None
    warnings: list[str] = field(default_factory=list)


async def pin_loaded_weights(
    handles: Sequence[NodeHandle], specs: Sequence[PromptSpec]
) -> list[str]:
    """Give each job naming no checkpoint or VAE the one the first node has loaded; returns
    warnings for what could not be named. InputError when a node lacks the checkpoint."""
    wants_model = any(spec.model is None for spec in specs)
    if not specs or not (wants_model or any(spec.vae is None for spec in specs)):
        return []
    first = handles[0]
    loaded = await loaded_weights(first, wants_model=wants_model)
    if wants_model and loaded.model is not None:
        for handle in handles[1:]:
            if (await handle.catalog.get()).checkpoint(loaded.model) is None:
                raise InputError(
                    f"{handle.name} has no {loaded.model!r}, the checkpoint loaded on "
                    f"{first.name} that this run would be made with as it names none: give "
                    "--model with one every node has"
                )
    for spec in specs:
        spec.model = spec.model or loaded.model
        spec.vae = spec.vae or loaded.vae
    return loaded.warnings


async def loaded_weights(handle: NodeHandle, *, wants_model: bool = True) -> LoadedWeights:
    """`wants_model`: the checkpoint is wanted too, so a node without one is an error."""
    catalog = await handle.catalog.get()
    if catalog.source != "api":
        return LoadedWeights(
            warnings=[
                f"{handle.name} does not answer, so which checkpoint it has loaded is unknown: "
                "the run's images are made with whatever it has loaded then; --model and "
                "--vae name them"
            ]
        )
    options = await handle.client.get_options()
    model = _loaded_model(options, catalog, handle.name) if wants_model else None
    if catalog.server is not None and catalog.server.flavor == "forge":
        return _forge_modules(options, model, handle.name)
    vae = options.get("sd_vae")
    return LoadedWeights(model, vae if isinstance(vae, str) and vae else VAE_AUTOMATIC)


def _loaded_model(options: dict[str, Any], catalog: ResourceCatalog, node: str) -> str:
    name = options.get("sd_model_checkpoint")
    found = catalog.checkpoint(name) if isinstance(name, str) and name else None
    if found is None:
        # SD.Next unloads when its setting names no checkpoint it has; others would load one.
        raise InputError(
            f"{node} has no checkpoint to keep this run on: its settings name {name!r}, which "
            "it does not list; give --model"
        )
    return found.title


def _forge_modules(options: dict[str, Any], model: str | None, node: str) -> LoadedWeights:
    paths = options.get("forge_additional_modules") or []
    names = [str(path).replace("\\", "/").rsplit("/", 1)[-1] for path in paths]
    if len(names) <= 1:  # none: the checkpoint's own VAE, which "Automatic" asks Forge for
        return LoadedWeights(model, names[0] if names else VAE_AUTOMATIC)
    return LoadedWeights(
        model,
        warnings=[
            f"{node} has several modules loaded ({', '.join(names)}): the run leaves them as "
            "they are, and a client changing them would change its images"
        ],
    )
