"""Checking a decoded `.toml` / `.json` prompt pack, with line numbers for every complaint.

A prompt's line is found by its text (or, lacking one, by another text of its entry), searched
from the previous prompt's line on; when it cannot be found as written (escapes, say), the
previous line found stands in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.prompts.classic.stage_keys import KNOWN_SECTIONS
from stablenew_tui.prompts.key_lines import KeyLines, SettingsOrigin

STAGES = ("txt2img", "img2img", "adetailer", "upscale", "video", "variants")
_KEYS = ("name", "negative", "prompts", "overrides", "randomization")
_PROMPT_KEYS = ("prompt", "negative", "model", "vae")
# prompt, negative, line, and the prompt's own checkpoint and VAE (None: the run's)
PromptEntry = tuple[str, str, int, str | None, str | None]


@dataclass
class PackDocument:
    name: str | None = None
    negative: str = ""
    prompts: list[PromptEntry] = field(default_factory=list)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    override_origins: dict[tuple[str, ...], SettingsOrigin] = field(default_factory=dict)
    randomization: Any = None  # the raw `randomization` table, when there is one


def read_document(path: Path, text: str, data: Any) -> PackDocument:
    lines = KeyLines(path, text)
    if not isinstance(data, dict):
        raise lines.error(f"expected a table with {', '.join(repr(key) for key in _KEYS)}", 1)
    if "prompts" not in data and set(data) & set(KNOWN_SECTIONS) - set(_KEYS):
        raise lines.error(
            "a classic StableNew settings file, not a pack: it is used as the settings of the "
            f"pack {path.stem}.txt next to it, or as a preset (--preset {path})",
            1,
        )
    for key in data:
        if key not in _KEYS:
            raise lines.error(
                f"unknown key '{key}': expected one of {', '.join(_KEYS)}", lines.of_key(key)
            )
    document = PackDocument()
    for key in ("name", "negative"):
        if key in data and not isinstance(data[key], str):
            raise lines.error(f"'{key}' must be text", lines.of_key(key))
    document.name = data.get("name")
    document.negative = data.get("negative", "")
    if "prompts" not in data:
        raise lines.error("expected a 'prompts' list", 1)
    document.prompts = _prompts(data["prompts"], lines)
    document.overrides = _overrides(data.get("overrides", {}), lines)
    document.override_origins = {
        (stage, key): SettingsOrigin(
            f"overrides.{stage}.{key}", lines.of_path("overrides", stage, key)
        )
        for stage, settings in document.overrides.items()
        for key in settings
    }
    document.randomization = data.get("randomization")
    return document


def _prompts(entries: Any, lines: KeyLines) -> list[PromptEntry]:
    line = lines.of_key("prompts")
    if not isinstance(entries, list):
        raise lines.error("'prompts' must be a list of texts or of tables", line)
    prompts = []
    for number, entry in enumerate(entries, start=1):
        if isinstance(entry, str):
            entry = {"prompt": entry}
        if not isinstance(entry, dict):
            raise lines.error(f"prompt {number} must be text or a table with 'prompt'", line)
        prompt = entry.get("prompt")
        # Found by its prompt, else by any text it holds (one without a prompt is the error).
        written = [text for text in (prompt, *entry.values()) if isinstance(text, str)]
        if written:
            line = lines.of_text(written[0], line)
        unknown = [key for key in entry if key not in _PROMPT_KEYS]
        if unknown:
            raise lines.error(
                f"prompt {number} has unknown key '{unknown[0]}': "
                f"expected {', '.join(_PROMPT_KEYS)}",
                lines.of_key(unknown[0], line),
            )
        if not isinstance(prompt, str) or not prompt.strip():
            raise lines.error(f"prompt {number} needs a non-empty 'prompt' text", line)
        negative = entry.get("negative", "")
        if not isinstance(negative, str):
            raise lines.error(f"prompt {number}: 'negative' must be text", line)
        for key in ("model", "vae"):
            if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
                raise lines.error(f"prompt {number}: '{key}' must be a name", line)
        prompts.append((prompt, negative, line, entry.get("model"), entry.get("vae")))
    return prompts


def _overrides(overrides: Any, lines: KeyLines) -> dict[str, dict[str, Any]]:
    if not isinstance(overrides, dict):
        raise lines.error("'overrides' must be a table of stages", lines.of_key("overrides"))
    for stage, settings in overrides.items():
        if stage not in STAGES:
            raise lines.error(
                f"unknown stage '{stage}' in overrides: expected one of {', '.join(STAGES)}",
                lines.of_key(stage),
            )
        if not isinstance(settings, dict):
            raise lines.error(f"overrides for '{stage}' must be a table", lines.of_key(stage))
        for key, value in settings.items():
            if isinstance(value, dict):  # every stage setting is a value; merging stays flat
                raise lines.error(
                    f"overrides.{stage}.{key}: expected a value, not a table",
                    lines.of_path("overrides", stage, key),
                )
    return {stage: dict(settings) for stage, settings in overrides.items()}
