"""What each stage card shows, and the limits of each input, read from the settings models.

The pydantic models in `pipeline.settings` are the one source of truth: an input's range and
type come from its field, so the card can never accept what a run would then reject.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from stablenew_tui.pipeline.settings import PipelineSettings

# switch/stage: a checkbox; models: one checkpoint or several (`ModelPicker`)
Kind = Literal["choice", "models", "text", "int", "float", "switch", "stage"]


@dataclass(frozen=True)
class FormField:
    path: str  # "txt2img.steps"; "stages.img2img" for a stage's on/off switch
    label: str
    kind: Kind
    catalog: str | None = None  # the catalog list a choice offers
    options: tuple[str, ...] = ()  # fixed options of a choice
    blank_label: str = "auto"  # what an empty optional choice means

    @property
    def widget_id(self) -> str:
        return "field-" + self.path.replace(".", "-").replace("_", "-")

    def model_field(self) -> FieldInfo:
        section, _, name = self.path.partition(".")
        if not name:
            return PipelineSettings.model_fields[section]
        model = cast(type[BaseModel], PipelineSettings.model_fields[section].annotation)
        return model.model_fields[name]

    def bounds(self) -> tuple[float | None, float | None]:
        low = high = None
        for rule in self.model_field().metadata:
            if isinstance(rule, (Ge, Gt)):
                low = rule.ge if isinstance(rule, Ge) else rule.gt
            if isinstance(rule, (Le, Lt)):
                high = rule.le if isinstance(rule, Le) else rule.lt
        return cast(float | None, low), cast(float | None, high)

    @property
    def optional(self) -> bool:
        return self.model_field().default is None


CARDS: dict[str, tuple[FormField, ...]] = {
    "txt2img": (
        FormField("txt2img.model", "Model", "models", catalog="models"),
        FormField("txt2img.vae", "VAE", "choice", catalog="vaes", blank_label="as loaded"),
        FormField("txt2img.sampler", "Sampler", "choice", catalog="samplers"),
        FormField("txt2img.scheduler", "Scheduler", "choice", catalog="schedulers"),
        FormField("txt2img.steps", "Steps", "int"),
        FormField("txt2img.cfg_scale", "CFG", "float"),
        FormField("txt2img.width", "Width", "int"),
        FormField("txt2img.height", "Height", "int"),
        FormField("txt2img.seed", "Seed", "int"),
        FormField("txt2img.clip_skip", "Clip skip", "int"),
        FormField("images_per_prompt", "Images/prompt", "int"),
        FormField("txt2img.hires", "Hires fix", "switch"),
        FormField("txt2img.hires_upscaler", "Hires upscaler", "choice", catalog="hires"),
        FormField("txt2img.hires_scale", "Hires scale", "float"),
        FormField("txt2img.hires_denoising", "Hires denoise", "float"),
    ),
    "img2img": (
        FormField("stages.img2img", "img2img", "stage"),
        FormField("img2img.denoising_strength", "Denoising", "float"),
        FormField("img2img.sampler", "Sampler", "choice", catalog="samplers", blank_label="same"),
        FormField("img2img.steps", "Steps", "int"),
    ),
    "adetailer": (
        FormField("stages.adetailer", "ADetailer", "stage"),
        FormField("adetailer.model", "Detect", "choice", catalog="adetailer_models"),
        FormField("adetailer.confidence", "Confidence", "float"),
        FormField("adetailer.denoise", "Denoising", "float"),
        FormField("adetailer.prompt", "Prompt", "text"),
        FormField("adetailer.negative_prompt", "Negative", "text"),
    ),
    "upscale": (
        FormField("stages.upscale", "Upscale", "stage"),
        FormField("upscale.upscaler", "Upscaler", "choice", catalog="upscalers"),
        FormField("upscale.scale", "Factor", "float"),
    ),
    "video": (
        FormField("stages.video", "Video", "stage"),
        FormField("video.fps", "FPS", "int"),
        FormField("video.seconds_per_image", "Sec/image", "float"),
        FormField("video.crossfade", "Crossfade", "float"),
        FormField("video.format", "Format", "choice", options=("mp4", "webm", "gif")),
    ),
}


def value_at(table: dict[str, Any], field: FormField) -> Any:
    if field.kind == "stage":
        return field.path.split(".", 1)[1] in table.get("stages", [])
    node: Any = table
    for part in field.path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def put_value(table: dict[str, Any], field: FormField, value: Any) -> None:
    if field.kind == "stage":
        stage = field.path.split(".", 1)[1]
        stages = [name for name in table.setdefault("stages", ["txt2img"]) if name != stage]
        table["stages"] = [*stages, stage] if value else stages
        return
    *parents, leaf = field.path.split(".")
    node = table
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
