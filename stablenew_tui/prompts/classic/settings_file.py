"""A classic StableNew settings file: a pack's `.json` sidecar or a preset, in one format.

Both hold the classic app's whole configuration (`txt2img`, `img2img`, `upscale`,
`pipeline`, `video`, `randomization`, `adetailer`, `aesthetic`, `api`). Reading one gives a
partial table of our stage settings with where each value came from, the negative prompt it
sets, its randomization, and one warning per key that cannot be honoured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.errors import InputError
from stablenew_tui.prompts.classic.randomization import Randomization, read_randomization
from stablenew_tui.prompts.classic.stage_keys import KNOWN_SECTIONS, StageMapper
from stablenew_tui.prompts.key_lines import KeyLines, SettingsOrigin


@dataclass(frozen=True)
class ClassicSettings:
    path: Path
    table: dict[str, Any] = field(default_factory=dict)  # a partial settings table
    origins: dict[tuple[str, ...], SettingsOrigin] = field(default_factory=dict)
    negative: str = ""  # txt2img.negative_prompt: follows each prompt's own negative
    randomization: Randomization = field(default_factory=Randomization)
    warnings: tuple[str, ...] = ()


def read_settings_file(path: Path, kind: type[InputError]) -> ClassicSettings:
    """Read and map the file; bad JSON or a value of the wrong kind raises `kind` at its line."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise kind(f"cannot read: {error.strerror}", source=str(path)) from None
    except UnicodeDecodeError as error:
        line = path.read_bytes().count(b"\n", 0, error.start) + 1
        raise kind("not UTF-8 text", source=str(path), line=line) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise kind(f"not valid JSON: {error.msg}", source=str(path), line=error.lineno,
                   column=error.colno) from None  # fmt: skip
    except RecursionError:
        raise kind("nested too deeply", source=str(path)) from None
    lines = KeyLines(path, text, kind)
    if not isinstance(document, dict):
        raise lines.error("expected an object with txt2img, img2img, upscale, pipeline, …", 1)
    mapper = StageMapper(lines)
    mapper.map(document)
    randomization = Randomization()
    if "randomization" in document:
        randomization = read_randomization(
            document["randomization"], lines, enabled_by_default=False
        )
    unknown = [
        f"{path}:{lines.of_key(key)}: {key}: unknown key; ignored"
        for key in document
        if key not in KNOWN_SECTIONS
    ]
    return ClassicSettings(
        path=path,
        table=mapper.table,
        origins=mapper.origins,
        negative=mapper.negative,
        randomization=randomization,
        warnings=(*mapper.warnings, *randomization.warnings, *unknown),
    )
