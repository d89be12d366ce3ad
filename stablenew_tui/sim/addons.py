"""What else a simulated install has besides models: prompt styles, face restorers, Real-ESRGAN
models, scripts and extensions, and how a generation request naming scripts or styles is checked.

The a1111 and forge flavors have the ADetailer extension installed (it shows in `scripts` and
`extensions`, and works in `alwayson_scripts`: `sim.adetailer`); a1111-1.8 and sdnext do not,
so clients can be tested both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stablenew_tui.sim import adetailer
from stablenew_tui.sim.errors import SimHTTPError
from stablenew_tui.sim.flavors import Flavor

TXT2IMG, IMG2IMG, CONTROL = "txt2img", "img2img", "control"
BOTH = frozenset({TXT2IMG, IMG2IMG})


@dataclass(frozen=True)
class Script:
    title: str
    alwayson: bool
    tabs: frozenset[str] = BOTH
    args: tuple[dict[str, Any], ...] = ()

    @property
    def name(self) -> str:
        """What the API lists: the title in lower case (modules/scripts.py
        `create_script_ui_inner`)."""
        return self.title.lower()


def _arg(label: str, value: Any, **limits: Any) -> dict[str, Any]:
    # modules/api/models.py ScriptArg: every field is present, None when the control lacks it.
    arg = {"label": label, "value": value, "minimum": None, "maximum": None, "step": None}
    return arg | {"choices": None} | limits


_ADETAILER = Script(
    adetailer.SCRIPT_TITLE,
    alwayson=True,
    args=(
        _arg("Enable ADetailer", False),
        _arg("Skip img2img", False),
        _arg("ADetailer model", "face_yolov8n.pt", choices=["None", *adetailer.MODELS]),
        _arg("ADetailer prompt", ""),
        _arg("Inpaint denoising strength", 0.4, minimum=0.0, maximum=1.0, step=0.01),
    ),
)
_SELECTABLE = (
    Script("Prompt matrix", alwayson=False, args=(_arg("Put variable parts at start", False),)),
    Script(
        "Prompts from file or textbox", alwayson=False, args=(_arg("List of prompt inputs", ""),)
    ),
    Script("X/Y/Z plot", alwayson=False, args=(_arg("X type", "Seed"), _arg("X values", ""))),
    Script("Loopback", alwayson=False, tabs=frozenset({IMG2IMG}), args=(_arg("Loops", 4),)),
    Script(
        "SD upscale", alwayson=False, tabs=frozenset({IMG2IMG}), args=(_arg("Tile overlap", 64),)
    ),
)
_ALWAYSON_1_8 = (
    Script("Extra options", alwayson=True),
    Script("Soft Inpainting", alwayson=True, tabs=frozenset({IMG2IMG})),
    Script("Refiner", alwayson=True, args=(_arg("Refiner", False), _arg("Switch at", 0.8))),
    Script("Seed", alwayson=True, args=(_arg("Seed", -1), _arg("Extra", False))),
)
# v1.9 made the sampler choice a script (modules/processing_scripts/sampler.py).
_SAMPLER = Script("Sampler", alwayson=True, args=(_arg("Sampling method", "DPM++ 2M"),))
_FORGE_BUILTIN = (
    Script("ControlNet", alwayson=True),
    Script("FreeU Integrated", alwayson=True, args=(_arg("Enabled", False),)),
    Script("SelfAttentionGuidance Integrated", alwayson=True, args=(_arg("Enabled", False),)),
)
_SDNEXT_SCRIPTS = (
    Script("Prompt matrix", alwayson=False),
    Script("Prompts from file", alwayson=False),
    Script("XYZ Grid Script", alwayson=False),
    Script("Loopback", alwayson=False, tabs=frozenset({IMG2IMG})),
    Script("SD Upscale", alwayson=False, tabs=frozenset({IMG2IMG})),
    Script("IP Adapters", alwayson=True, tabs=BOTH | {CONTROL}),
    Script("Prompt enhance", alwayson=True, tabs=BOTH | {CONTROL}),
    Script("XYZ Grid", alwayson=True, tabs=BOTH | {CONTROL}),
)


def scripts_of(flavor: Flavor) -> tuple[Script, ...]:
    if flavor.is_sdnext:
        return _SDNEXT_SCRIPTS
    scripts: tuple[Script, ...] = _SELECTABLE + _ALWAYSON_1_8
    if flavor.has_schedulers_route:  # 1.9 and later
        scripts += (_SAMPLER,)
    if flavor.is_forge:
        scripts += _FORGE_BUILTIN
    if adetailer.has_adetailer(flavor):
        scripts += (_ADETAILER,)
    return scripts


def scripts_answer(flavor: Flavor) -> dict[str, list[str]]:
    """GET /sdapi/v1/scripts: A1111 `Api.get_scripts_list`; SD.Next adds `control`
    (modules/api/script.py `get_scripts_list`)."""
    tabs = (TXT2IMG, IMG2IMG, CONTROL) if flavor.is_sdnext else (TXT2IMG, IMG2IMG)
    return {tab: [s.name for s in scripts_of(flavor) if tab in s.tabs] for tab in tabs}


def script_info(flavor: Flavor) -> list[dict[str, Any]]:
    """GET /sdapi/v1/script-info: one entry per script and tab, txt2img's first."""
    tabs = (TXT2IMG, IMG2IMG, CONTROL) if flavor.is_sdnext else (TXT2IMG, IMG2IMG)
    return [
        {
            "name": script.name,
            "is_alwayson": script.alwayson,
            "is_img2img": tab == IMG2IMG,
            "args": [dict(arg) for arg in script.args],
        }
        for tab in tabs
        for script in scripts_of(flavor)
        if tab in script.tabs
    ]


def extensions(flavor: Flavor) -> list[dict[str, Any]]:
    """GET /sdapi/v1/extensions: installed extensions that have a git remote."""
    if not adetailer.has_adetailer(flavor):
        return []
    return [
        {
            "name": "adetailer",
            "remote": "https://github.com/Bing-su/adetailer",
            "branch": "main",
            "commit_hash": adetailer.COMMIT,
            "commit_date": adetailer.COMMIT_DATE,
            "version": adetailer.COMMIT[:8],
            "enabled": True,
        }
    ]


def check_scripts(
    flavor: Flavor, tab: str, script_name: str | None, alwayson: dict[str, Any] | None
) -> None:
    """Refuse a request naming a script this tab lacks, as the API does before queueing."""
    scripts = [script for script in scripts_of(flavor) if tab in script.tabs]
    if flavor.is_sdnext:
        _check_sdnext(scripts, alwayson)
        return
    # modules/api/api.py `script_name_to_index`, `get_selectable_script`, `init_script_args`.
    if script_name:
        _a1111_find(script_name, [s for s in scripts if not s.alwayson])
    for name in alwayson or {}:
        if not _a1111_find(name, scripts).alwayson:
            raise SimHTTPError(
                422, "Cannot have a selectable script in the always on scripts params"
            )


def _a1111_find(name: str, scripts: list[Script]) -> Script:
    for script in scripts:
        if script.title.lower() == name.lower():
            return script
    raise SimHTTPError(422, f"Script '{name}' not found")


def _check_sdnext(scripts: list[Script], alwayson: dict[str, Any] | None) -> None:
    # modules/api/script.py: an unknown `script_name` is ignored, unknown always-on ones are not.
    for name in alwayson or {}:
        script = next(
            (s for s in scripts if name.lower() in (s.name, s.name.split(":")[0])),
            None,
        )
        if script is None:
            raise SimHTTPError(422, f"Always on script not found: {name}")
        if not script.alwayson:
            raise SimHTTPError(422, f"Selectable script cannot be in always on params: {name}")


# -- prompt styles ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptStyle:
    name: str
    prompt: str
    negative_prompt: str


PROMPT_STYLES = (
    PromptStyle(
        "Cinematic",
        "cinematic still of {prompt}, shallow depth of field, film grain",
        "cartoon, drawing",
    ),
    PromptStyle("Watercolor", "watercolor painting, soft washes, paper texture", "photo"),
    PromptStyle("Clean negative", "", "lowres, blurry, jpeg artifacts, watermark"),
)


def styles_answer(flavor: Flavor) -> list[dict[str, Any]]:
    """GET /sdapi/v1/prompt-styles: A1111 `Api.get_prompt_styles`; SD.Next's has more keys
    (modules/api/endpoints.py `get_prompt_styles`)."""
    if not flavor.is_sdnext:
        return [
            {"name": s.name, "prompt": s.prompt, "negative_prompt": s.negative_prompt}
            for s in PROMPT_STYLES
        ]
    folder = f"{flavor.install_root}/models/styles"
    return [
        {
            "name": s.name,
            "prompt": s.prompt,
            "negative_prompt": s.negative_prompt,
            "extra": "",
            "filename": f"{folder}/{s.name}.json",
            "preview": "",
        }
        for s in PROMPT_STYLES
    ]


def apply_styles(flavor: Flavor, prompt: str, styles: list[str], negative: bool) -> str:
    """The prompt with each named style merged in; unknown names change nothing
    (modules/styles.py `merge_prompts`, `StyleDatabase.apply_styles_to_prompt`)."""
    by_name = {style.name: style for style in PROMPT_STYLES}
    for name in styles:
        style = by_name.get(name)
        if style is None:
            continue
        text = style.negative_prompt if negative else style.prompt
        if "{prompt}" in text:
            prompt = text.replace("{prompt}", prompt)
            continue
        parts = [part for part in (prompt.strip(), text.strip()) if part]
        # SD.Next does not add a second comma after a prompt that ends with one.
        joiner = " " if flavor.is_sdnext and prompt.strip().endswith(",") else ", "
        prompt = joiner.join(parts)
    return prompt


# -- face restorers and Real-ESRGAN ---------------------------------------------------------------


def face_restorers(flavor: Flavor) -> list[dict[str, Any]]:
    if flavor.is_sdnext:
        # SD.Next answers with its detailer models (modules/api/endpoints.py `get_restorers`).
        base = "https://huggingface.co/vladmandic/yolo-detailers/resolve/main"
        names = ("face-yolo8n", "face-yolo8m", "hand_yolov8n", "person_yolov8n-seg")
        return [{"name": name, "path": f"{base}/{name}.pt"} for name in names]
    # CodeFormer and GFPGAN have no `cmd_dir` attribute: A1111 `Api.get_face_restorers`.
    return [{"name": "CodeFormer", "cmd_dir": None}, {"name": "GFPGAN", "cmd_dir": None}]


_RELEASES = "https://github.com/xinntao/Real-ESRGAN/releases/download"
# modules/realesrgan_model.py `get_realesrgan_models`
REALESRGAN_MODELS = (
    ("R-ESRGAN General 4xV3", f"{_RELEASES}/v0.2.5.0/realesr-general-x4v3.pth", 4),
    ("R-ESRGAN General WDN 4xV3", f"{_RELEASES}/v0.2.5.0/realesr-general-wdn-x4v3.pth", 4),
    ("R-ESRGAN AnimeVideo", f"{_RELEASES}/v0.2.5.0/realesr-animevideov3.pth", 4),
    ("R-ESRGAN 4x+", f"{_RELEASES}/v0.1.0/RealESRGAN_x4plus.pth", 4),
    ("R-ESRGAN 4x+ Anime6B", f"{_RELEASES}/v0.2.2.4/RealESRGAN_x4plus_anime_6B.pth", 4),
    ("R-ESRGAN 2x+", f"{_RELEASES}/v0.2.1/RealESRGAN_x2plus.pth", 2),
)


def realesrgan_answer() -> list[dict[str, Any]]:
    return [{"name": name, "path": path, "scale": scale} for name, path, scale in REALESRGAN_MODELS]
