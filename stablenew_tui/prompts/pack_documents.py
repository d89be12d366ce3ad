"""Checking a decoded `.toml` / `.json` prompt pack, with line numbers for every complaint.

Neither decoder reports where a value sits, so lines are found in the text: a key's line by
its name, a prompt's line by its text, searched from the previous prompt's line on. When a
prompt's text cannot be found as written (escapes, say), the previous line found stands in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.prompts.errors import PackError

STAGES = ("txt2img", "img2img", "adetailer", "upscale", "video", "variants")
_KEYS = ("name", "negative", "prompts", "overrides")
_PROMPT_KEYS = ("prompt", "negative", "model", "vae")
# prompt, negative, line, and the prompt's own checkpoint and VAE (None: the run's)
PromptEntry = tuple[str, str, int, str | None, str | None]


@dataclass
class PackDocument:
    name: str | None = None
    negative: str = ""
    prompts: list[PromptEntry] = field(default_factory=list)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    override_lines: dict[tuple[str, str], int] = field(default_factory=dict)  # (stage, key)


class _Lines:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def of_key(self, key: str, start: int = 1) -> int:
        """The first line from `start` where `key` is written as a key or a table name."""
        pattern = re.compile(rf"(^|[\s{{,.\[])[\"']?{re.escape(key)}[\"']?\s*([=:\]]|\.)")
        return self._first(lambda line: pattern.search(line) is not None, start)

    def of_text(self, text: str, start: int) -> int:
        """The first line from `start` holding `text`'s first line, as written or escaped."""
        first = text.splitlines()[0] if text.strip() else text
        escaped = json.dumps(first, ensure_ascii=False)[1:-1]
        return self._first(lambda line: first in line or escaped in line, start)

    def _first(self, matches: Callable[[str], bool], start: int) -> int:
        for number in range(max(start, 1), len(self.lines) + 1):
            if matches(self.lines[number - 1]):
                return number
        return start

    def error(self, message: str, line: int) -> PackError:
        return PackError(message, source=str(self.path), line=line)


def read_document(path: Path, text: str, data: Any) -> PackDocument:
    lines = _Lines(path, text)
    if not isinstance(data, dict):
        raise lines.error("expected a table with 'name', 'negative', 'prompts', 'overrides'", 1)
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
    document.override_lines = {
        (stage, key): lines.of_key(key, lines.of_key(stage, lines.of_key("overrides")))
        for stage, settings in document.overrides.items()
        for key in settings
    }
    return document


def _prompts(entries: Any, lines: _Lines) -> list[PromptEntry]:
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
        if isinstance(prompt, str):
            line = lines.of_text(prompt, line)
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


def _overrides(overrides: Any, lines: _Lines) -> dict[str, dict[str, Any]]:
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
                    lines.of_key(key, lines.of_key(stage, lines.of_key("overrides"))),
                )
    return {stage: dict(settings) for stage, settings in overrides.items()}
