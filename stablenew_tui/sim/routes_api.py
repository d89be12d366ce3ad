"""The read-mostly /sdapi/v1 routes: catalogs, options, progress, interrupt/skip, memory, refresh,
plus the probes clients use to tell servers apart (/internal/sysinfo, SD.Next's /version)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, FastAPI

from stablenew_tui.sim import images
from stablenew_tui.sim.catalog import LATENT_UPSCALE_MODES
from stablenew_tui.sim.encoding import AnswerFormat, encode_picture
from stablenew_tui.sim.errors import SimServerError
from stablenew_tui.sim.samplers import SCHEDULERS, samplers_for
from stablenew_tui.sim.state import REFRESH_SECONDS, SimState

API = "/sdapi/v1"
GIB = 1024**3


def add_api_routes(app: FastAPI, sim: SimState) -> None:
    flavor, catalog = sim.flavor, sim.catalog

    @app.get(f"{API}/sd-models")
    async def sd_models() -> list[dict[str, Any]]:
        return [checkpoint.as_json() for checkpoint in catalog.checkpoints]

    if flavor.has_vae_route:

        @app.get(f"{API}/sd-vae")
        async def sd_vae() -> list[dict[str, Any]]:
            return [{"model_name": vae.name, "filename": vae.filename} for vae in catalog.vaes]

    if flavor.has_modules_route:

        @app.get(f"{API}/sd-modules")
        async def sd_modules() -> list[dict[str, Any]]:
            return [
                {"model_name": path.rsplit("/", 1)[-1], "filename": path}
                for path in catalog.modules
            ]

    @app.get(f"{API}/samplers")
    async def samplers() -> list[dict[str, Any]]:
        stringify = not flavor.is_forge
        return [sampler.as_json(stringify_options=stringify) for sampler in samplers_for(flavor)]

    if flavor.has_schedulers_route:

        @app.get(f"{API}/schedulers")
        async def schedulers() -> list[dict[str, Any]]:
            return [scheduler.as_json() for scheduler in SCHEDULERS]

    @app.get(f"{API}/upscalers")
    async def upscalers() -> list[dict[str, Any]]:
        return catalog.upscalers

    @app.get(f"{API}/latent-upscale-modes")
    async def latent_upscale_modes() -> list[dict[str, Any]]:
        return [{"name": name} for name in LATENT_UPSCALE_MODES]

    @app.get(f"{API}/embeddings")
    async def embeddings() -> dict[str, Any]:
        return catalog.embeddings(sim.loaded_checkpoint.architecture)

    @app.get(f"{API}/hypernetworks")
    async def hypernetworks() -> list[dict[str, Any]]:
        return [{"name": name, "path": path} for name, path in catalog.hypernetworks]

    @app.get(f"{API}/loras")
    async def loras() -> list[dict[str, Any]]:
        return [lora.as_json() for lora in catalog.loras]

    @app.get(f"{API}/options")
    async def get_options() -> dict[str, Any]:
        return sim.options

    @app.post(f"{API}/options")
    async def set_options(req: Annotated[dict[str, Any], Body()]) -> None:
        name = req.get("sd_model_checkpoint")
        if name is not None and catalog.find_checkpoint(name) is None:
            raise SimServerError("RuntimeError", f"model {name!r} not found")
        if sim.freeze_settings:
            return
        sim.store_options(req)
        if flavor.is_forge:
            # Forge's set_config only refreshes the loading parameters: the checkpoint loads,
            # or fails to, in the next generation (modules/sysinfo.py set_config,
            # modules/sd_models.py forge_model_reload).
            return
        if sim.weights_out_of_date():
            # Switching model or VAE reloads weights behind the queue lock: the call blocks.
            previous = sim.loaded_checkpoint.title
            async with sim.engine.queued():
                try:
                    await sim.load_wanted_weights()
                except SimServerError:
                    # Options.set reports a failing onchange, puts the old value back and the
                    # POST still answers 200 (modules/options.py).
                    sim.options["sd_model_checkpoint"] = previous
        else:
            sim.options["sd_model_checkpoint"] = sim.loaded_checkpoint.title

    @app.get(f"{API}/progress")
    async def progress(skip_current_image: bool = False) -> dict[str, Any]:
        state = sim.engine.state
        fraction, eta_relative = sim.engine.progress()
        answer: dict[str, Any] = {
            "progress": fraction,
            "eta_relative": eta_relative,
            "state": state.as_json(),
            "current_image": None if skip_current_image else _preview(sim),
            "textinfo": state.textinfo,
        }
        if flavor.is_forge:
            answer["current_task"] = None
        return answer

    @app.post(f"{API}/interrupt")
    async def interrupt() -> dict[str, Any]:
        sim.engine.interrupt()
        return {}

    @app.post(f"{API}/skip")
    async def skip() -> None:
        sim.engine.skip()

    @app.get(f"{API}/memory")
    async def memory() -> dict[str, Any]:
        used = 6.5 * GIB if sim.engine.busy else 4.2 * GIB
        return {
            "ram": {"free": 52.3 * GIB, "used": 11.7 * GIB, "total": 64.0 * GIB},
            "cuda": {
                "system": {"free": int(12 * GIB - used), "used": int(used), "total": 12 * GIB},
                "active": {"current": int(used * 0.9), "peak": int(9.8 * GIB)},
                "allocated": {"current": int(used * 0.9), "peak": int(9.8 * GIB)},
                "reserved": {"current": int(used), "peak": int(10.4 * GIB)},
                "inactive": {"current": int(0.3 * GIB), "peak": int(1.1 * GIB)},
                "events": {"retries": 0, "oom": sim.out_of_memory_events},
            },
        }

    async def refresh() -> None:
        async with sim.engine.queued():
            await sim.engine.spend(REFRESH_SECONDS)

    for name in ("refresh-checkpoints", "refresh-vae", "refresh-loras"):
        app.post(f"{API}/{name}")(refresh)

    if flavor.has_sysinfo_route:

        @app.get("/internal/sysinfo")
        async def sysinfo() -> dict[str, Any]:
            return _sysinfo(sim)

    if flavor.has_version_route:

        @app.get(f"{API}/version")
        async def version() -> dict[str, Any]:
            return {
                "app": "sd.next",
                "updated": flavor.version,
                "hash": "a7c32caa",
                "branch": "master",
                "url": "https://github.com/vladmandic/sdnext/tree/master",
            }

        @app.get(f"{API}/platform")
        async def platform() -> dict[str, Any]:
            return {
                "arch": "x86_64",
                "system": "Linux",
                "python": "3.12.3",
                "torch": "2.7.1+cu128",
                "gpu": {"device": "NVIDIA GeForce RTX 3060"},
            }


def _preview(sim: SimState) -> str | None:
    """The live preview /progress shows: the image being sampled, as far as it has got."""
    every = int(sim.options.get("show_progress_every_n_steps") or 0)
    state = sim.engine.state
    if every <= 0 or not sim.options.get("live_previews_enable") or state.preview is None:
        return None
    reached = state.sampling_step // every * every
    if reached == 0 or state.sampling_steps == 0:
        return None
    key = (state.job_no, reached)
    if key not in state.preview_cache:
        source = state.preview
        width, height = max(source.width // 4, 8), max(source.height // 4, 8)
        small = images.draw_scene(source.prompt, source.seed, width, height, source.model)
        state.preview_cache.clear()
        # Encoded like any answer image (A1111 `modules/api/api.py` progressapi).
        state.preview_cache[key] = encode_picture(
            images.unfinished(small, reached / state.sampling_steps),
            {},
            AnswerFormat.from_options(sim.options, sim.flavor),
        )
    return state.preview_cache[key]


def _sysinfo(sim: SimState) -> dict[str, Any]:
    return {
        "Platform": "Linux-6.8.0-45-generic-x86_64-with-glibc2.39",
        "Python": "3.10.14",
        "Version": sim.flavor.version,
        "Commit": "82a973c04367123ae98bd9abdf80d9eda9b910e2",
        "Script path": sim.flavor.install_root,
        "Data path": sim.flavor.install_root,
        "Extensions dir": f"{sim.flavor.install_root}/extensions",
        "Commandline": ["launch.py", "--api", "--listen"],
        "Torch env info": {"torch_version": "2.3.1+cu121", "cuda_runtime_version": "12.1.105"},
        "Exceptions": [],
        "CPU": {"model": "x86_64", "count logical": 16, "count physical": 8},
        "RAM": {"total": "64GB", "used": "12GB", "free": "52GB"},
        "Extensions": [],
        "Inactive extensions": [],
        "Environment": {"GRADIO_ANALYTICS_ENABLED": "False"},
        "Config": {"sd_model_checkpoint": sim.options.get("sd_model_checkpoint")},
        "Startup": {},
        "Packages": ["fastapi==0.94.0", "gradio==3.41.2", "torch==2.3.1"],
    }
