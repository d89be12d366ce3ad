"""The ADetailer stage: a request the ADetailer extension (Bing-su/adetailer) understands, and
how its answer tells what the extension did.

The stage is an img2img request naming the extension in `alwayson_scripts`. Its `args` are what
the extension's script takes (`scripts/!adetailer.py`: `is_ad_enabled`, `set_skip_img2img`,
`get_args`): on or off, whether to skip img2img, then one table per detection pass shaped as
`adetailer/args.py` `ADetailerArgs` (keys left out keep the extension's defaults). img2img is
skipped, so the image comes back as sent except for the regions the model detected.

Skipping img2img, the extension runs the request's own pass as a stand-in (one step of Euler at
128×128, `set_skip_img2img`), and the answer's `info` and infotext describe that pass. What the
regions were redrawn with shows in the extension's own infotext keys ("ADetailer model", …,
`ADetailerArgs.extra_params`): those are what the answer is checked against.
"""

from __future__ import annotations

from typing import Any

from stablenew_tui.pipeline.settings import ADetailerSettings

ADETAILER_SCRIPT = "ADetailer"  # the script's title, as `alwayson_scripts` names it
# The infotext key the extension writes for each argument we send (first detection pass).
REPORTED_AS = {
    "ad_model": "ADetailer model",
    "ad_confidence": "ADetailer confidence",
    "ad_dilate_erode": "ADetailer dilate erode",
    "ad_mask_blur": "ADetailer mask blur",
    "ad_denoising_strength": "ADetailer denoising strength",
    "ad_prompt": "ADetailer prompt",
    "ad_negative_prompt": "ADetailer negative prompt",
    "ad_steps": "ADetailer steps",
    "ad_cfg_scale": "ADetailer CFG scale",
    "ad_sampler": "ADetailer sampler",
}


def adetailer_scripts(stage: ADetailerSettings, negative_prompt: str | None) -> dict[str, Any]:
    """The request's `alwayson_scripts`: ADetailer on, img2img skipped, one detection pass.
    `negative_prompt`: the regions' own (with the global negative where it applies), None to
    leave them the image's."""
    detail: dict[str, Any] = {
        "ad_model": stage.model,
        "ad_confidence": stage.confidence,
        "ad_dilate_erode": stage.dilation,
        "ad_mask_blur": stage.mask_feather,
        "ad_denoising_strength": stage.denoise,
    }
    # Empty prompts are the image's own: the extension fills them in (`_get_prompt`).
    if stage.prompt:
        detail["ad_prompt"] = stage.prompt
    if negative_prompt:
        detail["ad_negative_prompt"] = negative_prompt
    # Each separate value counts only with its switch on (`get_steps`, `get_cfg_scale`, ...).
    if stage.steps is not None:
        detail |= {"ad_use_steps": True, "ad_steps": stage.steps}
    if stage.cfg is not None:
        detail |= {"ad_use_cfg_scale": True, "ad_cfg_scale": stage.cfg}
    if stage.sampler is not None:
        detail |= {"ad_use_sampler": True, "ad_sampler": stage.sampler}
    return {ADETAILER_SCRIPT: {"args": [True, True, detail]}}


def detail_asked(sent: dict[str, Any]) -> dict[str, Any] | None:
    """The detection pass a request body asks for, when it is an ADetailer stage; else None."""
    scripts = sent.get("alwayson_scripts") or {}
    args = (scripts.get(ADETAILER_SCRIPT) or {}).get("args")
    if isinstance(args, list) and len(args) > 2 and args[:2] == [True, True]:
        detail = args[2]
        return detail if isinstance(detail, dict) else None
    return None
