"""Answers of the WebUI API, parsed tolerantly.

Real servers add fields, send `null` hashes, strings where numbers belong and `"true"` for
booleans, and extensions change shapes. Every model here ignores what it does not know and
defaults what may be missing, so one odd field never breaks discovery or a finished image.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Flavor = Literal["a1111", "forge", "sdnext"]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ServerInfo(_Answer):
    """What probing told us about a server: decides which request fields it may receive."""

    flavor: Flavor
    version: str | None = None
    supports_scheduler: bool

    def describe(self) -> str:
        names = {"a1111": "AUTOMATIC1111", "forge": "Forge", "sdnext": "SD.Next"}
        return f"{names[self.flavor]} {self.version}" if self.version else names[self.flavor]


class SDModel(_Answer):
    title: str
    model_name: str = ""
    hash: str | None = None
    sha256: str | None = None
    filename: str | None = None
    config: str | None = None

    def matches(self, name: str) -> bool:
        """A1111 accepts a checkpoint by title, model name or short hash. A title gains its
        ` [shorthash]` suffix the first time the model loads, so compare without it too."""
        if name in (self.title, self.model_name) or (bool(self.hash) and name == self.hash):
            return True
        return _without_hash(name) == _without_hash(self.title)


def _without_hash(title: str) -> str:
    return re.sub(r" \[[0-9a-fA-F]{8,64}\]$", "", title)


class VAE(_Answer):
    model_name: str
    filename: str | None = None


class Sampler(_Answer):
    name: str
    aliases: list[str] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("aliases", "options", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any, info: Any) -> Any:
        if value is not None:
            return value
        return [] if info.field_name == "aliases" else {}


class Scheduler(_Answer):
    name: str
    label: str = ""
    aliases: list[str] | None = None
    default_rho: float | None = None
    need_inner_model: bool | None = None


class Upscaler(_Answer):
    name: str
    model_name: str | None = None
    model_path: str | None = None
    model_url: str | None = None
    scale: float | None = None


class LatentUpscaleMode(_Answer):
    name: str


class Hypernetwork(_Answer):
    name: str
    path: str | None = None


class Lora(_Answer):
    name: str
    alias: str | None = None
    path: str | None = None
    metadata: dict[str, Any] | None = None


class Embeddings(_Answer):
    loaded: dict[str, Any] = Field(default_factory=dict)
    skipped: dict[str, Any] = Field(default_factory=dict)


class ProgressState(_Answer):
    skipped: bool = False
    interrupted: bool = False
    job: str = ""
    job_count: int = 0
    job_timestamp: str = ""
    job_no: int = 0
    sampling_step: int = 0
    sampling_steps: int = 0


class Progress(_Answer):
    progress: float = 0.0
    eta_relative: float | None = None
    state: ProgressState = Field(default_factory=ProgressState)
    current_image: str | None = None
    textinfo: str | None = None

    @property
    def busy(self) -> bool:
        return self.state.job_count > 0 or self.progress > 0


class GenerationInfo(_Answer):
    """The `info` JSON of a generation; only the keys the app relies on are named."""

    seed: int | None = None
    all_seeds: list[int] = Field(default_factory=list)
    subseed: int | None = None
    all_prompts: list[str] = Field(default_factory=list)
    infotexts: list[str] = Field(default_factory=list)
    sd_model_name: str | None = None
    sd_model_hash: str | None = None
    sd_vae_name: str | None = None
    sd_vae_hash: str | None = None
    sampler_name: str | None = None
    steps: int | None = None
    cfg_scale: float | None = None
    width: int | None = None
    height: int | None = None
    index_of_first_image: int = 0
    version: str | None = None


class GenerationResult(_Answer):
    images: list[str] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(default_factory=dict)
    info: GenerationInfo = Field(default_factory=GenerationInfo)
    raw_info: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @field_validator("images", mode="before")
    @classmethod
    def _no_null_images(cls, value: Any) -> Any:
        return [image for image in (value or []) if image]

    @classmethod
    def from_answer(cls, data: dict[str, Any]) -> GenerationResult:
        raw_info = _parse_info(data.get("info"))
        return cls.model_validate(
            {**data, "info": GenerationInfo.model_validate(raw_info), "raw_info": raw_info}
        )

    def generated_images(self) -> list[str]:
        """Images after any leading grid; extensions may append extra ones after the seeds."""
        return self.images[self.info.index_of_first_image :]


class ExtrasResult(_Answer):
    images: list[str] = Field(default_factory=list)
    html_info: str | None = None

    @classmethod
    def from_answer(cls, data: dict[str, Any]) -> ExtrasResult:
        images = data.get("images") or ([data["image"]] if data.get("image") else [])
        return cls(images=images, html_info=data.get("html_info"))


class PngInfo(_Answer):
    info: str = ""
    items: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)


def _parse_info(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}
