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

    def describe(self, *, short: bool = False) -> str:
        """`AUTOMATIC1111 v1.10.1`; `short`, for a table column: `A1111 v1.10.1`."""
        names = {"a1111": "AUTOMATIC1111", "forge": "Forge", "sdnext": "SD.Next"}
        name = "A1111" if short and self.flavor == "a1111" else names[self.flavor]
        return f"{name} {self.version}" if self.version else name


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
        return without_hash(name) == without_hash(self.title)


def without_hash(title: str) -> str:
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
    """A1111 1.9+/Forge: {name, label, aliases, default_rho, need_inner_model}. SD.Next serves
    {name, cls, options} there, but its "schedulers" are its samplers: it has no separate field."""

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
    """Embedding names. A1111 and Forge map each name to its details (`api.py`
    get_embeddings); SD.Next lists bare names (`modules/api/endpoints.py` get_embeddings)."""

    loaded: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)

    @field_validator("loaded", "skipped", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if value is None:
            return []
        return list(value) if isinstance(value, dict) else value


class PromptStyle(_Answer):
    """A saved style; SD.Next adds `extra`, `filename` and `preview`."""

    name: str
    prompt: str | None = None
    negative_prompt: str | None = None


class FaceRestorer(_Answer):
    """A1111/Forge send {name, cmd_dir}; on SD.Next these are its detailer models {name, path}."""

    name: str


class ScriptLists(_Answer):
    """Installed scripts and extensions by tab, as the WebUI names them (lower-case titles);
    SD.Next adds a `control` list."""

    txt2img: list[str] = Field(default_factory=list)
    img2img: list[str] = Field(default_factory=list)

    @field_validator("txt2img", "img2img", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


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
    """The `info` JSON of a generation; only the keys the app relies on are named. Each may
    be missing: SD.Next's has no sd_model_name, sd_vae_name nor version
    (`modules/processing.py` Processed.js), and an answer without images may have no info."""

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
        return cls.model_validate({**data, "info": raw_info, "raw_info": raw_info})

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


def out_of_memory_count(memory: Any) -> int | None:
    """How often the GPU ran out of memory since the server started, from a `memory` answer
    (cuda.events.oom, torch's num_ooms: A1111 `api.py` get_memory, SD.Next
    `modules/api/server.py` get_memory), or None where it cannot tell (no CUDA)."""
    cuda = memory.get("cuda") if isinstance(memory, dict) else None
    events = cuda.get("events") if isinstance(cuda, dict) else None
    count = events.get("oom") if isinstance(events, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


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
