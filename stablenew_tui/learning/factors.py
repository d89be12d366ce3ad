"""What a rated image was made with, as factors the report compares: each stage's settings
(numbers in bands, so 7 and 7.5 CFG count together) and each randomized segment's option.

A factor is a setting of one stage (`txt2img sampler`, `img2img denoising`) or one segment of
one template: the same segment index means nothing across templates, so options are only
compared with the other options of their own segment. Each value comes with the setting as
recorded, so a suggestion can be applied as a real value (the CFG used, not a band's edge).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

from stablenew_tui.prompts import Template, TemplateError

IMAGE_STAGES = ("txt2img", "img2img", "upscale")
PROMPT = "prompt"  # the "stage" of segment factors

# (label, lowest value of each band after the first)
_BANDS = {
    "cfg": (4.0, 6.0, 8.0, 10.0, 12.0),
    "steps": (15, 25, 35, 50),
    "denoising": (0.2, 0.4, 0.6, 0.8),
}


@dataclass(frozen=True, order=True)
class Factor:
    stage: str  # txt2img, img2img, upscale, or PROMPT for a template's segment
    setting: str  # checkpoint, vae, sampler, …; a segment's index for PROMPT
    template: str = ""  # segments only
    source: str = ""  # segments only: the segment's text, e.g. "{red|blue}"

    @property
    def label(self) -> str:
        if self.stage == PROMPT:
            return f"segment {self.setting} {self.source}"
        return f"{self.stage} {self.setting}"


Value = tuple[str, Any]  # (the option as shown, the setting as recorded)


def band(value: float, edges: tuple[float, ...]) -> str:
    """The band `value` falls in: "<4", "4–6", …, "≥12" (lower edge included)."""
    if value < edges[0]:
        return f"<{_number(edges[0])}"
    for low, high in pairwise(edges):
        if value < high:
            return f"{_number(low)}–{_number(high)}"
    return f"≥{_number(edges[-1])}"


def _number(value: float) -> str:
    return f"{value:g}"


def _plain(key: str) -> Callable[[dict], Value | None]:
    def read(inputs: dict) -> Value | None:
        value = inputs.get(key)
        return (str(value), value) if value not in (None, "") else None

    return read


def _banded(key: str, edges: tuple[float, ...]) -> Callable[[dict], Value | None]:
    def read(inputs: dict) -> Value | None:
        value = inputs.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return band(value, edges), value

    return read


def _size(inputs: dict) -> Value | None:
    width, height = inputs.get("width"), inputs.get("height")
    if not isinstance(width, int) or not isinstance(height, int):
        return None
    return f"{width}×{height}", (width, height)


def _hires(inputs: dict) -> Value:
    on = bool(inputs.get("hires"))
    return ("on" if on else "off"), on


def _factor_of_upscale(inputs: dict) -> Value | None:
    value = inputs.get("upscale_factor")
    return (f"{value:g}×", value) if isinstance(value, int | float) else None


_SETTINGS: dict[str, Callable[[dict], Value | None]] = {
    "checkpoint": _plain("model"),
    "vae": _plain("vae"),
    "sampler": _plain("sampler"),
    "scheduler": _plain("scheduler"),
    "cfg": _banded("cfg_scale", _BANDS["cfg"]),
    "steps": _banded("steps", _BANDS["steps"]),
    "size": _size,
    "denoising": _banded("denoising_strength", _BANDS["denoising"]),
    "upscaler": _plain("upscaler"),
    "upscale factor": _factor_of_upscale,
}


def stage_factors(stage: str, inputs: dict) -> dict[Factor, Value]:
    """The settings one stage's record holds. Hires fix is a txt2img setting: off unless the
    record says it was on."""
    found = {}
    for setting, read in _SETTINGS.items():
        value = read(inputs)
        if value is not None:
            found[Factor(stage, setting)] = value
    if stage == "txt2img":
        found[Factor(stage, "hires")] = _hires(inputs)
    return found


def segment_factors(inputs: dict) -> dict[Factor, Value]:
    """Each randomized segment's option, for a record drawn from a template. Held segments
    (locked or pinned) were chosen by the user, not drawn, so they say nothing here."""
    template, choices = inputs.get("template"), inputs.get("choices")
    if not isinstance(template, str) or not isinstance(choices, dict):
        return {}
    held = inputs.get("locks") or {}
    found = {}
    for index, text in choices.items():
        if index in held or not isinstance(text, str):
            continue
        factor = Factor(PROMPT, str(index), template, _segment_source(template, str(index)))
        found[factor] = (text or "(empty)", text)
    return found


@lru_cache(maxsize=256)
def _segment_source(template: str, index: str) -> str:
    try:
        segment = Template.parse(template).segment(int(index))
    except (TemplateError, ValueError):
        segment = None
    return segment.source if segment is not None else f"#{index}"
