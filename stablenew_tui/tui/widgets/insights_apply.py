"""Applying an option from the Insights tab: a setting goes into its stage card, with the value
the rated images were most often made with (the CFG used, not a band's edge); a segment's
option is pinned in the prompt editor, loading its template when another is there."""

from __future__ import annotations

from typing import Literal

from textual.screen import Screen

from stablenew_tui.learning.factors import PROMPT, Factor
from stablenew_tui.learning.report import OptionReport
from stablenew_tui.tui.widgets.prompt_editor import PromptEditor
from stablenew_tui.tui.widgets.stage_cards import StageCards

# (stage, setting) of a factor → the settings paths of its stage card inputs.
CARD_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("txt2img", "checkpoint"): ("txt2img.model",),
    ("txt2img", "vae"): ("txt2img.vae",),
    ("txt2img", "sampler"): ("txt2img.sampler",),
    ("txt2img", "scheduler"): ("txt2img.scheduler",),
    ("txt2img", "cfg"): ("txt2img.cfg_scale",),
    ("txt2img", "steps"): ("txt2img.steps",),
    ("txt2img", "size"): ("txt2img.width", "txt2img.height"),
    ("txt2img", "hires"): ("txt2img.hires",),
    ("txt2img", "denoising"): ("txt2img.hires_denoising",),
    ("img2img", "sampler"): ("img2img.sampler",),
    ("img2img", "steps"): ("img2img.steps",),
    ("img2img", "denoising"): ("img2img.denoising_strength",),
    ("upscale", "upscaler"): ("upscale.upscaler",),
    ("upscale", "upscale factor"): ("upscale.scale",),
}


Severity = Literal["information", "warning", "error"]


def apply_option(screen: Screen, factor: Factor, option: OptionReport) -> tuple[str, Severity]:
    """Apply `option` of `factor`; returns what was done and how to notify it."""
    if factor.stage == PROMPT:
        editor = screen.query_one(PromptEditor)
        pinned = editor.hold_option(factor.template, int(factor.setting), option.setting)
        held = "pinned" if pinned else "locked"
        return f"segment {factor.setting} {held} to “{option.value}” (Prompt tab)", "information"
    paths = CARD_FIELDS.get((factor.stage, factor.setting))
    if paths is None:
        return f"no stage card sets the {factor.label}", "warning"
    values = option.setting if len(paths) > 1 else (option.setting,)
    cards = screen.query_one(StageCards)
    for path, value in zip(paths, values, strict=True):
        cards.set_value(path, value)
    return f"{factor.label} set to {option.value} (Stages tab)", "information"
