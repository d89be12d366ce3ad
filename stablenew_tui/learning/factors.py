"""What a rated image was made with, as factors the report compares: each stage's settings
(numbers in bands, so 7 and 7.5 CFG count together) and each randomized segment's option.

A factor is a setting of one stage (`txt2img sampler`, `img2img denoising`) or one segment of
one template: the same segment index means nothing across templates, so options are only
compared with the other options of their own segment. Each value comes with the setting as
recorded, so a suggestion can be applied as a real value (the CFG used, not a band's edge).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from itertools import pairwise
from typing import Any, NamedTuple

from stablenew_tui.prompts import Template, TemplateError

IMAGE_STAGES = ("txt2img", "img2img", "upscale")
PROMPT = "prompt"  # the "stage" of segment factors

# (label, lowest value of each band after the first)
_BANDS = {
    "cfg": (4.0, 6.0, 8.0, 10.0, 12.0),
    "steps": (15, 25, 35, 50),
    "denoising": (0.2, 0.4, 0.6, 0.8),
}


class Factor(NamedTuple):  # a tuple: hashed and compared in C, and the report does millions
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


# What a stage's record says about its settings, in the order `_settings_factors` reads it.
_INPUT_KEYS = (
    "model", "vae", "sampler", "scheduler", "cfg_scale", "steps", "width", "height",
    "denoising_strength", "hires", "upscaler", "upscale_factor",
)  # fmt: skip


def stage_factors(stage: str, inputs: dict) -> dict[Factor, Value]:
    """The settings one stage's record holds. Every image of a run has the same settings, so
    equal settings share one dict, read-only for the caller."""
    key = (stage, *map(inputs.get, _INPUT_KEYS))
    try:
        found = _SEEN_SETTINGS.get(key)
    except TypeError:  # an unhashable value in a malformed record: read it, uncached
        return _settings_factors(stage, inputs)
    if found is None:
        if len(_SEEN_SETTINGS) >= _MAX_SEEN_SETTINGS:
            _SEEN_SETTINGS.clear()
        found = _SEEN_SETTINGS[key] = _settings_factors(stage, inputs)
    return found


_SEEN_SETTINGS: dict[tuple, dict[Factor, Value]] = {}
_MAX_SEEN_SETTINGS = 4096


def _settings_factors(stage: str, inputs: dict) -> dict[Factor, Value]:
    """Hires fix is a txt2img setting: off unless the record says it was on."""
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
    factors = _segment_factors(template)
    return {
        factors.get(index) or _segment_factor(template, index): (text or "(empty)", text)
        for index, text in choices.items()
        if index not in held and isinstance(text, str)
    }


@lru_cache(maxsize=1024)
def _segment_factors(template: str) -> dict[str, Factor]:
    """The factor of each of the template's randomized segments, by index as records write it."""
    try:
        segments = Template.parse(template).randomized
    except TemplateError:
        return {}
    return {str(s.index): Factor(PROMPT, str(s.index), template, s.source) for s in segments}


def _segment_factor(template: str, index: str) -> Factor:
    """A segment the template does not have (a record from a template that no longer parses)."""
    return Factor(PROMPT, index, template, f"#{index}")
