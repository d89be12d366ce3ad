"""The answers SD.Next gives in its own shape, read from vladmandic/sdnext (modules/api/*.py).

Everything here is what SD.Next sends where A1111 would send something else; the A1111 shapes
stay in the route modules. Sources are named per function; the table in README.md lists them.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from stablenew_tui.sim.engine import GenerationEngine, JobState
from stablenew_tui.sim.errors import SimServerError
from stablenew_tui.sim.flavors import Flavor

COMMIT = "058a7f0cf"
# The line of `def get_schedulers` in modules/api/endpoints.py, which FastAPI names in the error.
_GET_SCHEDULERS_LINE = 209

# modules/sd_samplers_diffusers.py `samplers_data_diffusers`: "Default" and the dropdown divider
# rows have no constructor; every other entry's constructor is a lambda.
_SCHEDULER_ROWS = (
    "Default",
    "── Euler ──",
    "Euler",
    "Euler a",
    "Euler SGM",
    "Euler EDM",
    "Euler FlowMatch",
    "── DPM / DPM++ ──",
    "DPM++",
    "DPM++ 2M",
    "DPM++ 3M",
    "DPM++ 1S",
    "DPM++ SDE",
    "DPM++ 2M SDE",
    "DPM++ 2M EDM",
    "DPM SDE",
    "── UniPC / DEIS ──",
    "UniPC",
    "DEIS",
    "SA Solver",
    "── Heun / KDPM2 ──",
    "Heun",
    "KDPM2",
    "KDPM2 a",
)


class _ItemScheduler(BaseModel):
    """modules/api/models.py `ItemScheduler`: `cls` is a plain str."""

    name: str
    cls: str
    options: dict[str, Any]


def schedulers_failure(install_root: str) -> SimServerError:
    """GET /sdapi/v1/schedulers on current SD.Next: `get_schedulers` (modules/api/endpoints.py)
    returns `cls: None` for the rows without a constructor, so FastAPI's response validation
    fails and the middleware answers 500 with the unvalidated list as `body`."""
    rows: list[dict[str, Any]] = [
        {
            "name": name,
            "cls": None if name == "Default" or name.startswith("─") else "<lambda>",
            "options": {},
        }
        for name in _SCHEDULER_ROWS
    ]
    try:
        TypeAdapter(list[_ItemScheduler]).validate_python(rows)
    except ValidationError as invalid:
        errors = [
            {**error, "loc": ("response", *error["loc"])}
            for error in invalid.errors(include_url=False)
        ]
    count = len(errors)
    lines = [f"{count} validation error{'s' if count != 1 else ''}:"]
    lines += [f"  {error}" for error in errors]
    lines.append(
        f'  File "{install_root}/modules/api/endpoints.py", line {_GET_SCHEDULERS_LINE}, '
        "in get_schedulers"
    )
    lines.append("    GET /sdapi/v1/schedulers")
    return SimServerError("ResponseValidationError", "\n".join(lines), body=rows)


def embeddings_answer(answer: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """modules/api/endpoints.py `get_embeddings`: names only (models.py `ResEmbeddings`)."""
    return {"loaded": list(answer["loaded"]), "skipped": list(answer["skipped"])}


def info(a1111_info: dict[str, Any], first_infotext: str) -> dict[str, Any]:
    """The `info` JSON: modules/processing.py `Processed.js()`. No sd_model_name, sd_vae_name,
    sd_vae_hash, version, restore_faces or face_restoration_model; cfg_end and detailer instead.
    A job that made no image still reports the infotext of its first one."""
    keys = (
        "prompt", "all_prompts", "negative_prompt", "all_negative_prompts", "seed", "all_seeds",
        "subseed", "all_subseeds", "subseed_strength", "width", "height", "sampler_name",
        "cfg_scale",
    )  # fmt: skip
    answer = {key: a1111_info[key] for key in keys}
    answer |= {
        "cfg_end": None,
        "steps": a1111_info["steps"],
        "batch_size": a1111_info["batch_size"],
        "detailer": False,
        "detailer_model": None,
        "sd_model_hash": a1111_info["sd_model_hash"],
    }
    for key in (
        "seed_resize_from_w",
        "seed_resize_from_h",
        "denoising_strength",
        "extra_generation_params",
        "index_of_first_image",
    ):
        answer[key] = a1111_info[key]
    answer["infotexts"] = a1111_info["infotexts"] or [first_infotext]
    for key in ("styles", "job_timestamp", "clip_skip"):
        answer[key] = a1111_info[key]
    return answer


def progress_answer(engine: GenerationEngine, preview: str | None) -> dict[str, Any]:
    """modules/api/server.py `get_progress`. Each sampling pass runs inside its own
    `state.begin('Inference')` (modules/processing_diffusers.py), which resets job_no and
    job_count, so a client sees every pass go from 0 to 1 on its own."""
    state = engine.state
    if state.job_count == 0:
        return {
            "id": engine.last_task_id,
            "progress": 0,
            "eta_relative": 0,
            "state": _state(state.job, 0, 0, 0, 0, state),
            "current_image": None,
            "textinfo": state.textinfo,
        }
    sampling = state.sampling_steps > 0
    step, steps = state.sampling_step, max(state.sampling_steps, 1)
    progress = min(step / steps, 1) if step > 0 else 0
    elapsed = time.time() - state.time_start
    eta = elapsed / progress - elapsed if progress > 0 else 0
    return {
        "id": engine.task_id,
        "progress": round(progress, 2),
        "eta_relative": round(eta, 2),
        "state": _state("Inference" if sampling else state.job, 1, 0, step, steps, state),
        "current_image": preview,
        "textinfo": state.textinfo,
    }


def _state(
    job: str, count: int, number: int, step: int, steps: int, state: JobState
) -> dict[str, Any]:
    # modules/shared_state.py `State.dict`: no stopping_generation.
    return {
        "skipped": state.skipped,
        "interrupted": state.interrupted,
        "job": job,
        "job_count": count,
        "job_timestamp": state.job_timestamp,
        "job_no": number,
        "sampling_step": step,
        "sampling_steps": steps if count else 0,
    }


def version_answer(flavor: Flavor) -> dict[str, Any]:
    """installer.py `get_version`."""
    return {
        "app": "sd.next",
        "updated": flavor.version,
        "commit": COMMIT,
        "branch": "master",
        "url": "https://github.com/vladmandic/sdnext/tree/master",
        "kanvas": "main",
        "ui": "main",
    }


def platform_answer() -> dict[str, Any]:
    """modules/api/server.py `get_platform`: installer.py `get_platform` + loader packages."""
    return {
        "arch": "x86_64",
        "cpu": "x86_64",
        "system": "Linux",
        "release": "6.8.0-45-generic",
        "python": "3.12.3",
        "locale": ["en_US", "UTF-8"],
        "setuptools": "80.9.0",
        "docker": False,
        "pip": "25.1.1",
        "uv": None,
        "torch": "2.9.1+cu128",
        "torchvision": "0.24.1+cu128",
        "diffusers": "0.36.0.dev0",
        "transformers": "4.57.1",
        "tokenizers": "0.22.1",
        "accelerate": "1.11.0",
        "hub": "0.36.0",
        "gradio": "3.43.2",
        "pydantic": "2.13.4",
        "numpy": "2.1.2",
        "onnxruntime": None,
    }
