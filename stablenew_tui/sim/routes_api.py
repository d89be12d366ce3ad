"""The command routes under /sdapi/v1: options, progress, interrupt/skip, memory, refreshing the
model lists and moving the weights off and back on the GPU."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body

from stablenew_tui.sim import images, sdnext
from stablenew_tui.sim.encoding import AnswerFormat, encode_picture
from stablenew_tui.sim.routing import Routes
from stablenew_tui.sim.settings import apply_options
from stablenew_tui.sim.state import REFRESH_SECONDS, SimState

GIB = 1024**3


def add_api_routes(routes: Routes, sim: SimState) -> None:
    flavor, catalog = sim.flavor, sim.catalog

    @routes.get("options")
    async def get_options() -> dict[str, Any]:
        return sim.options

    @routes.post("options")
    async def set_options(req: Annotated[dict[str, Any], Body()]) -> Any:
        return await apply_options(sim, req)

    @routes.get("progress")
    async def progress(skip_current_image: bool = False) -> dict[str, Any]:
        preview = None if skip_current_image else _preview(sim)
        if flavor.is_sdnext:
            return sdnext.progress_answer(sim.engine, preview)
        # modules/api/api.py `progressapi`: no current_task (ProgressResponse drops it).
        state = sim.engine.state
        fraction, eta_relative = sim.engine.progress()
        return {
            "progress": fraction,
            "eta_relative": eta_relative,
            "state": state.as_json(),
            "current_image": preview if state.job_count else None,
            "textinfo": state.textinfo,
        }

    @routes.post("interrupt")
    async def interrupt() -> Any:
        sim.engine.interrupt()
        return routes.done({})

    @routes.post("skip")
    async def skip() -> Any:
        sim.engine.skip()
        return routes.done(None)

    @routes.get("memory")
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

    async def rescan() -> Any:
        # A1111 rescans behind the queue lock; SD.Next does not and answers 204.
        if flavor.is_sdnext:
            await sim.engine.spend(REFRESH_SECONDS)
        else:
            async with sim.engine.queued():
                await sim.engine.spend(REFRESH_SECONDS)
        return routes.done(None)

    for name in ("refresh-checkpoints", "refresh-vae", "refresh-embeddings"):
        routes.post(name)(rescan)

    @routes.post("refresh-loras")
    async def refresh_loras() -> Any:
        # The Lora extension returns `list_available_networks()`: None on A1111 and Forge, the
        # networks by name on SD.Next (modules/lora/lora_load.py).
        if not flavor.is_sdnext:
            return None
        return {
            lora.name: {
                "name": lora.name,
                "filename": lora.path,
                "fullname": lora.name,
                "alias": lora.name,
                "hash": None,
                "shorthash": None,
                "metadata": dict(lora.metadata),
                "is_safetensors": True,
                "sd_version": lora.architecture,
            }
            for lora in catalog.loras
        }

    @routes.post("unload-checkpoint")
    async def unload_checkpoint() -> Any:
        # A1111 moves the model to the CPU, Forge unloads every model, SD.Next drops model and
        # refiner; on all three the next job loads the weights again.
        sim.weights_on_device = False
        return routes.done({})

    @routes.post("reload-checkpoint")
    async def reload_checkpoint() -> Any:
        # Forge's `send_model_to_device` does nothing; A1111 and SD.Next load the weights now.
        if not flavor.is_forge and not sim.weights_on_device:
            await sim.load_wanted_weights()
        return routes.done({})


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
