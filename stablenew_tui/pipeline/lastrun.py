"""The last run's settings and prompt, so the next start is warm.

Saved as TOML (atomic) when each run ends and when the TUI quits, with the settings in effect;
read at start to prefill. A seed is remembered only when it was set (a flag, a typed seed, a
pack's settings): a run whose seed was drawn at random keeps -1. Keys this version does not
know (an older or newer file) are dropped with a warning, never an error.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel

from stablenew_tui.atomic import write_text_atomic
from stablenew_tui.pipeline.settings import PipelineSettings, settings_as_table

LAST_RUN_NAME = "last_run.toml"
log = logging.getLogger("stablenew.lastrun")


@dataclass
class LastRun:
    settings: dict[str, Any] = field(default_factory=dict)
    prompt: str = ""
    negative: str = ""
    warnings: list[str] = field(default_factory=list)


def save_last_run(path: Path, settings: PipelineSettings, prompt: str, negative: str) -> None:
    data = {
        "prompt": {"text": prompt, "negative": negative},
        "settings": settings_as_table(settings),
    }
    try:
        write_text_atomic(path, tomli_w.dumps(data))
    except OSError as error:  # a warm start next time is a convenience, not worth a failure
        log.warning("could not save the last run to %s: %s", path, error)


def load_last_run(path: Path) -> LastRun:
    """A partial settings table that merges as the 'last run' layer; problems are warnings."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return LastRun()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as error:
        return LastRun(warnings=[f"{path}: ignored, not readable ({error})"])
    warnings: list[str] = []
    settings = _known_only(data.get("settings", {}), PipelineSettings, "settings", warnings, path)
    prompt = data.get("prompt", {}) if isinstance(data.get("prompt"), dict) else {}
    return LastRun(
        settings=settings,
        prompt=str(prompt.get("text", "")),
        negative=str(prompt.get("negative", "")),
        warnings=warnings,
    )


def _known_only(
    table: Any, model: type[BaseModel], where: str, warnings: list[str], path: Path
) -> dict[str, Any]:
    if not isinstance(table, dict):
        warnings.append(f"{path}: ignored [{where}], not a table")
        return {}
    kept: dict[str, Any] = {}
    for key, value in table.items():
        field_info = model.model_fields.get(key)
        if field_info is None:
            warnings.append(f"{path}: ignored unknown setting {where}.{key}")
            continue
        nested = field_info.annotation
        if isinstance(nested, type) and hasattr(nested, "model_fields"):
            kept[key] = _known_only(value, nested, f"{where}.{key}", warnings, path)
        else:
            kept[key] = value
    return kept
