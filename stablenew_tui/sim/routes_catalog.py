"""The listing routes: models, VAEs or modules, samplers and schedulers, upscalers, networks,
styles, face restorers, scripts and extensions, each in its server's shape."""

from __future__ import annotations

from typing import Any

from stablenew_tui.sim import addons, sdnext
from stablenew_tui.sim.catalog import LATENT_UPSCALE_MODES
from stablenew_tui.sim.routing import Routes
from stablenew_tui.sim.samplers import SCHEDULERS, samplers_for
from stablenew_tui.sim.state import SimState


def add_catalog_routes(routes: Routes, sim: SimState) -> None:
    flavor, catalog = sim.flavor, sim.catalog

    @routes.get("sd-models")
    async def sd_models() -> list[dict[str, Any]]:
        return [checkpoint.as_json() for checkpoint in catalog.checkpoints]

    @routes.get("sd-vae")
    async def sd_vae() -> list[dict[str, Any]]:
        return [{"model_name": vae.name, "filename": vae.filename} for vae in catalog.vaes]

    @routes.get("sd-modules")
    async def sd_modules() -> list[dict[str, Any]]:
        return [
            {"model_name": path.rsplit("/", 1)[-1], "filename": path} for path in catalog.modules
        ]

    @routes.get("samplers")
    async def samplers() -> list[dict[str, Any]]:
        listed = samplers_for(flavor)
        if flavor.is_sdnext:
            # {name, options} without aliases, and without "Default".
            return [{"name": s.name, "options": dict(s.options)} for s in listed[1:]]
        stringify = not flavor.is_forge
        return [sampler.as_json(stringify_options=stringify) for sampler in listed]

    @routes.get("schedulers")
    async def schedulers() -> list[dict[str, Any]]:
        if flavor.is_sdnext:
            raise sdnext.schedulers_failure(flavor.install_root)
        return [scheduler.as_json() for scheduler in SCHEDULERS]

    @routes.get("upscalers")
    async def upscalers() -> list[dict[str, Any]]:
        return catalog.upscalers

    @routes.get("latent-upscale-modes")
    async def latent_upscale_modes() -> list[dict[str, Any]]:
        return [{"name": name} for name in LATENT_UPSCALE_MODES]

    @routes.get("embeddings")
    async def embeddings() -> dict[str, Any]:
        answer = catalog.embeddings(sim.loaded_checkpoint.architecture)
        return sdnext.embeddings_answer(answer) if flavor.is_sdnext else answer

    @routes.get("hypernetworks")
    async def hypernetworks() -> list[dict[str, Any]]:
        return [{"name": name, "path": path} for name, path in catalog.hypernetworks]

    @routes.get("loras")
    async def loras() -> list[dict[str, Any]]:
        return [lora.as_json() for lora in catalog.loras]

    @routes.get("prompt-styles")
    async def prompt_styles() -> list[dict[str, Any]]:
        return addons.styles_answer(flavor)

    @routes.get("face-restorers")
    async def face_restorers() -> list[dict[str, Any]]:
        return addons.face_restorers(flavor)

    @routes.get("realesrgan-models")
    async def realesrgan_models() -> list[dict[str, Any]]:
        return addons.realesrgan_answer()

    @routes.get("scripts")
    async def scripts() -> dict[str, list[str]]:
        return addons.scripts_answer(flavor)

    @routes.get("script-info")
    async def script_info() -> list[dict[str, Any]]:
        return addons.script_info(flavor)

    @routes.get("extensions")
    async def extensions() -> list[dict[str, Any]]:
        return addons.extensions(flavor)
