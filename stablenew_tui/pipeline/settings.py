"""Stage settings, and the one order in which their layers merge.

    built-in defaults < config [stages] < last run < preset < pack settings < explicit flags

Each layer is a partial table ({"txt2img": {"steps": 30}, ...}); later layers win key by key.
The merged result is validated once, before anything is sent; an invalid value is reported
with the layer that set it, so the user knows which file or flag to fix.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from stablenew_tui.errors import InputError, first_problem
from stablenew_tui.video.settings import VideoSettings

StageName = Literal["txt2img", "img2img", "adetailer", "upscale", "video"]
STAGE_ORDER: tuple[StageName, ...] = ("txt2img", "img2img", "adetailer", "upscale", "video")
# Several names in one of these fan a run out over each (`variants`).
Names = str | list[str] | None


class _Settings(BaseModel):
    # NaN passes no bound and would be reported as out of range; name it for what it is.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class Txt2ImgSettings(_Settings):
    model: Names = Field(None, description="checkpoint; several: every image on each; empty keeps")
    vae: Names = Field(None, description="VAE name, Automatic or None; several: each; empty keeps")
    sampler: str = "Euler a"
    scheduler: str | None = None
    steps: int = Field(20, ge=1, le=150)
    cfg_scale: float = Field(7.0, ge=1.0, le=30.0)
    width: int = Field(512, ge=64, le=4096, multiple_of=8)
    height: int = Field(512, ge=64, le=4096, multiple_of=8)
    seed: int = Field(-1, ge=-1, lt=2**32, description="-1 picks a random base seed")
    subseed: int = Field(-1, ge=-1, lt=2**32)
    subseed_strength: float = Field(0.0, ge=0.0, le=1.0)
    clip_skip: int | None = Field(None, ge=1, le=12)
    hires: bool = False
    hires_scale: float = Field(2.0, ge=1.0, le=4.0)
    hires_upscaler: str = "Latent"
    hires_sampler: str | None = Field(None, description="empty uses the same sampler")
    hires_steps: int = Field(0, ge=0, le=150, description="0 uses the same steps")
    hires_denoising: float = Field(0.7, ge=0.0, le=1.0)
    refiner: str | None = None
    refiner_switch_at: float = Field(0.8, gt=0.0, lt=1.0)
    apply_global_negative: bool = True

    @field_validator("model", "vae")
    @classmethod
    def _one_or_several(cls, value: Names) -> Names:
        """One name stays a name; a list is kept only when it names several, each once."""
        if not isinstance(value, list):
            return value or None
        names = [name for name in value if name]
        if len(set(names)) != len(names):
            raise ValueError("a name is listed twice")
        return names if len(names) > 1 else (names[0] if names else None)

    @property
    def models(self) -> list[str | None]:
        return names_of(self.model)

    @property
    def vaes(self) -> list[str | None]:
        return names_of(self.vae)


def names_of(value: Names) -> list[str | None]:
    """The names a setting holds, as a list; [None] when it keeps what is loaded."""
    return list(value) if isinstance(value, list) else [value]


class Img2ImgSettings(_Settings):
    model: str | None = Field(None, description="another checkpoint for this pass")
    denoising_strength: float = Field(0.4, ge=0.0, le=1.0)
    resize_mode: int = Field(0, ge=0, le=3)
    sampler: str | None = Field(None, description="empty uses the txt2img sampler")
    scheduler: str | None = None
    steps: int | None = Field(None, ge=1, le=150)
    cfg_scale: float | None = Field(None, ge=1.0, le=30.0)
    apply_global_negative: bool = True


class ADetailerSettings(_Settings):
    """The ADetailer extension's pass: find faces, hands or people and redraw only them. Keys
    are StableNew's `adetailer` block without its prefix (`adetailer_denoise` is `denoise`)."""

    model: str = Field("face_yolov8n.pt", description="what to detect: one of the node's models")
    confidence: float = Field(0.3, ge=0.0, le=1.0, description="the lowest detection score kept")
    dilation: int = Field(4, ge=-128, le=128, description="pixels the mask grows (<0 shrinks)")
    mask_feather: int = Field(4, ge=0, le=64, description="mask blur in pixels")
    denoise: float = Field(0.4, ge=0.0, le=1.0, description="how far the regions are redrawn")
    steps: int | None = Field(None, ge=1, le=150, description="empty: the image's own steps")
    cfg: float | None = Field(None, ge=1.0, le=30.0, description="empty: the image's own CFG")
    sampler: str | None = Field(None, description="empty: the image's own sampler")
    prompt: str | None = Field(None, description="empty: the image's own prompt")
    negative_prompt: str | None = Field(None, description="empty: the image's own negative")
    apply_global_negative: bool = True


class HypernetworkChoice(_Settings):
    name: str = Field(description='a hypernetwork of the node; "None" for none')
    strength: float = Field(1.0, ge=0.0, le=2.0)


class VariantSettings(_Settings):
    """How a run spreads over several checkpoints, VAEs (`txt2img.model` / `vae` listing
    several) and hypernetworks: `fanout` makes every image on each combination, `rotate` gives
    each prompt the next combination in turn."""

    mode: Literal["fanout", "rotate"] = "fanout"
    hypernetworks: list[HypernetworkChoice] = Field(default_factory=list)

    @field_validator("hypernetworks", mode="before")
    @classmethod
    def _names_alone(cls, value: Any) -> Any:
        """A bare name is that hypernetwork at full strength."""
        if not isinstance(value, list):
            return value
        return [{"name": entry} if isinstance(entry, str) else entry for entry in value]


class UpscaleSettings(_Settings):
    method: Literal["extras", "img2img"] = "extras"
    upscaler: str = "R-ESRGAN 4x+"
    upscaler_2: str = "None"
    upscaler_2_visibility: float = Field(0.0, ge=0.0, le=1.0)
    scale: float = Field(2.0, ge=1.0, le=8.0)
    target_width: int | None = Field(None, ge=64, le=16384)
    target_height: int | None = Field(None, ge=64, le=16384)
    face_restoration: Literal["none", "gfpgan", "codeformer"] = "none"
    face_restoration_strength: float = Field(1.0, ge=0.0, le=1.0)
    codeformer_weight: float = Field(0.5, ge=0.0, le=1.0)
    denoising_strength: float = Field(0.2, ge=0.0, le=1.0, description="img2img method only")
    apply_global_negative: bool = Field(True, description="img2img method only")

    @model_validator(mode="after")
    def _target_is_both_or_neither(self) -> UpscaleSettings:
        if (self.target_width is None) != (self.target_height is None):
            raise ValueError("target_width and target_height go together")
        return self


class PipelineSettings(_Settings):
    """Everything a run needs besides its prompts."""

    stages: list[StageName] = Field(default_factory=lambda: list[StageName](["txt2img"]))
    images_per_prompt: int = Field(1, ge=1, le=10_000)
    txt2img: Txt2ImgSettings = Field(default_factory=Txt2ImgSettings)
    img2img: Img2ImgSettings = Field(default_factory=Img2ImgSettings)
    adetailer: ADetailerSettings = Field(default_factory=ADetailerSettings)
    upscale: UpscaleSettings = Field(default_factory=UpscaleSettings)
    video: VideoSettings = Field(default_factory=VideoSettings)
    variants: VariantSettings = Field(default_factory=VariantSettings)

    @field_validator("stages")
    @classmethod
    def _stages_in_order(cls, stages: list[StageName]) -> list[StageName]:
        # A run from prompts starts with txt2img, one from existing images without it: the
        # launcher checks which, knowing what the run starts from.
        if not stages:
            raise ValueError("no stage is enabled")
        if len(set(stages)) != len(stages):
            raise ValueError("a stage is listed twice")
        return sorted(stages, key=STAGE_ORDER.index)

    def enabled(self, stage: StageName) -> bool:
        return stage in self.stages


SettingsLayer = tuple[str, dict[str, Any]]  # (where it came from, partial table)


def merge_settings(*layers: SettingsLayer) -> PipelineSettings:
    """Merge partial tables in the given order (lowest first) and validate the result."""
    merged: dict[str, Any] = {}
    for _, table in layers:
        _deep_merge(merged, table)
    try:
        return PipelineSettings.model_validate(merged)
    except ValidationError as error:
        location, key, message = first_problem(error)
        source = _layer_that_set(location, layers)
        raise InputError(f"{key}: {message}", source=source) from None


def layer_problem(table: dict[str, Any]) -> tuple[tuple[Any, ...], str] | None:
    """The first value of one partial table that is wrong whatever the other layers hold (a
    type, a range, an unknown key), with its location, so a file can name its line before
    any merge. Problems between values (a crossfade longer than the image) wait for the merge."""
    merged: dict[str, Any] = {}
    _deep_merge(merged, table)
    try:
        PipelineSettings.model_validate(merged)
    except ValidationError as error:
        written = [tuple(problem["loc"]) for problem in error.errors()]
        if any(_writes_value(table, loc) for loc in written):
            location, _, message = first_problem(error, keep=lambda loc: _writes_value(table, loc))
            return location, message
    return None


def _writes_value(table: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    """Whether `table` itself holds a value (not a whole table) at `loc`."""
    node: Any = table
    for part in loc:
        if isinstance(node, dict):
            present = part in node
        else:
            present = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not present:
            return False
        node = node[part]
    return not isinstance(node, dict)


def settings_as_table(settings: PipelineSettings) -> dict[str, Any]:
    """The settings as a plain table (no None), e.g. to save as the last run."""
    return settings.model_dump(mode="json", exclude_none=True)


def _deep_merge(into: dict[str, Any], table: dict[str, Any]) -> None:
    for key, value in table.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        elif isinstance(value, dict):
            into[key] = {}
            _deep_merge(into[key], value)
        else:
            into[key] = value


def _layer_that_set(loc: tuple[Any, ...], layers: tuple[SettingsLayer, ...]) -> str | None:
    for name, table in reversed(layers):
        node: Any = table
        for part in loc:
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
        else:
            return name
    return None
