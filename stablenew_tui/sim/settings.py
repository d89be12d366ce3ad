"""POST /sdapi/v1/options as each server applies it.

- A1111 (modules/api/api.py `set_config`): an unknown `sd_model_checkpoint` is a RuntimeError
  before anything changes; then each key goes through `Options.set` (modules/options.py), which
  skips an unchanged value and looks the key up in `data_labels`, so an unknown key is a 500
  KeyError after the keys before it were applied. The answer is `null`.
- Forge (modules/sysinfo.py `set_config`): the same per key, with the checkpoint checked when its
  turn comes; it only refreshes the loading parameters, so the checkpoint loads, or fails to, in
  the next generation (modules/sd_models.py `forge_model_reload`).
- SD.Next (modules/api/options.py `set_options`, modules/options_handler.py `Options.set`):
  never fails; answers `{"updated": [{key: changed}, ...]}` where an unknown key, or a value
  equal to the current one, is `false`. An unknown checkpoint is stored and unloads the model.
"""

from __future__ import annotations

from typing import Any

from stablenew_tui.sim.errors import SimServerError
from stablenew_tui.sim.state import SimState


async def apply_options(sim: SimState, changes: dict[str, Any]) -> Any:
    """Apply `changes`; the answer body (None is JSON null)."""
    if sim.flavor.is_sdnext:
        updated = [{key: _changes(sim, key, value)} for key, value in changes.items()]
        if not sim.freeze_settings:
            sim.options.update(
                {key: value for key, value in changes.items() if _changes(sim, key, value)}
            )
            await _reload(sim)
        return {"updated": updated}
    if not sim.flavor.is_forge:
        _require_checkpoint(sim, changes.get("sd_model_checkpoint"))
    if sim.freeze_settings:
        return None
    failure: SimServerError | None = None
    for key, value in changes.items():
        if value == sim.options.get(key):
            continue
        if key == "sd_model_checkpoint":
            try:
                _require_checkpoint(sim, value)
            except SimServerError as error:
                failure = error
                break
        if key not in sim.options:
            failure = SimServerError("KeyError", repr(key))
            break
        sim.store_options({key: value})
    if not sim.flavor.is_forge:
        await _reload(sim)
    if failure is not None:
        raise failure
    return None


def _changes(sim: SimState, key: str, value: Any) -> bool:
    return key in sim.options and sim.options[key] != value


def _require_checkpoint(sim: SimState, name: Any) -> None:
    if name is not None and sim.catalog.find_checkpoint(name) is None:
        raise SimServerError("RuntimeError", f"model {name!r} not found")


async def _reload(sim: SimState) -> None:
    if sim.checkpoint_missing():
        return  # SD.Next unloaded the model; the next job answers with no images
    if sim.weights_out_of_date():
        # Switching model or VAE reloads weights behind the queue lock: the call blocks.
        previous = sim.loaded_checkpoint.title
        async with sim.engine.queued():
            try:
                await sim.load_wanted_weights()
            except SimServerError:
                # Options.set reports a failing onchange, puts the old value back and the POST
                # still answers 200 (modules/options.py).
                sim.options["sd_model_checkpoint"] = previous
    else:
        sim.options["sd_model_checkpoint"] = sim.loaded_checkpoint.title
