"""What a video is asked to be (`VideoSettings`), how far it is (`VideoProgress`) and what was
made (`VideoResult`, shaped so a manifest line or a learning record can be written from it)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stablenew_tui.errors import InputError, first_problem


class VideoFormat(StrEnum):
    MP4 = "mp4"
    WEBM = "webm"
    GIF = "gif"

    @property
    def encoder(self) -> str:
        """The ffmpeg encoder this format needs."""
        return {"mp4": "libx264", "webm": "libvpx-vp9", "gif": "gif"}[self.value]

    @property
    def needs_even_size(self) -> bool:
        # 4:2:0 chroma covers 2×2 pixel blocks, so H.264 and VP9 need even width and height.
        return self is not VideoFormat.GIF


# Highest quality number each encoder accepts for -crf (lower is better); GIF has none.
_CRF_LIMITS = {VideoFormat.MP4: 51, VideoFormat.WEBM: 63}
DEFAULT_CRF = {VideoFormat.MP4: 23, VideoFormat.WEBM: 32}
# ffmpeg's tmix, which blends a crossfade, mixes at most 1024 frames (the fade plus one).
_MAX_CROSSFADE_FRAMES = 1023


class VideoSettings(BaseModel):
    """How to turn a sequence of images into one video file."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    fps: int = Field(24, ge=1, le=120, description="output frames per second")
    seconds_per_image: float = Field(1.0, gt=0.0, le=60.0)
    crossfade: float = Field(0.0, ge=0.0, le=10.0, description="seconds; 0 cuts")
    format: VideoFormat = VideoFormat.MP4
    size: tuple[int, int] | None = Field(None, description="(width, height); default: first image")
    crf: int | None = Field(None, ge=0, description="quality, lower is better; default per codec")

    @model_validator(mode="after")
    def _consistent(self) -> VideoSettings:
        frame = 1.0 / self.fps
        if self.seconds_per_image < frame:
            raise ValueError(
                f"seconds_per_image ({self.seconds_per_image:g}) is shorter than one frame "
                f"at {self.fps} fps"
            )
        if self.crossfade >= self.seconds_per_image:
            raise ValueError(
                f"crossfade ({self.crossfade:g} s) must be shorter than seconds_per_image "
                f"({self.seconds_per_image:g} s)"
            )
        if 0 < self.crossfade < frame:
            raise ValueError(f"crossfade ({self.crossfade:g} s) is shorter than one frame")
        if self.crossfade_frames > _MAX_CROSSFADE_FRAMES:
            raise ValueError(
                f"crossfade spans {self.crossfade_frames} frames; at most "
                f"{_MAX_CROSSFADE_FRAMES} at {self.fps} fps"
            )
        if self.seconds_per_image - self.crossfade < frame:
            raise ValueError("crossfade leaves no frame where an image is shown on its own")
        if self.size is not None and not all(1 <= side <= 16384 for side in self.size):
            raise ValueError(f"size {self.size[0]}x{self.size[1]} is outside 1..16384")
        if self.crf is not None:
            limit = _CRF_LIMITS.get(self.format)
            if limit is None:
                raise ValueError(f"crf does not apply to {self.format.value}")
            if self.crf > limit:
                raise ValueError(f"crf for {self.format.value} goes from 0 to {limit}")
        return self

    @property
    def crossfade_frames(self) -> int:
        return round(self.crossfade * self.fps)

    def duration_for(self, images: int) -> float:
        """Seconds of video for `images` images: consecutive images overlap by the crossfade."""
        return images * self.seconds_per_image - (images - 1) * self.crossfade

    def frames_for(self, images: int) -> int:
        return max(1, round(self.duration_for(images) * self.fps))


def validated_settings(**fields: Any) -> VideoSettings:
    """`VideoSettings(**fields)`, with a validation failure turned into one-line `InputError`."""
    try:
        return VideoSettings(**fields)
    except ValidationError as error:
        _, key, message = first_problem(error)
        raise InputError(f"video {key}: {message}" if key else f"video: {message}") from None


class VideoProgress(BaseModel):
    """One progress report from ffmpeg while it encodes."""

    model_config = ConfigDict(frozen=True)

    fraction: float = Field(description="0..1 of the expected duration written so far")
    out_time: float = Field(description="seconds of video written so far")
    duration: float = Field(description="seconds of video expected in total")
    frame: int = 0
    speed: float | None = Field(None, description="seconds of video per second of encoding")
    done: bool = False


class VideoResult(BaseModel):
    """A finished video. `model_dump(mode="json")` is a ready manifest line or record."""

    model_config = ConfigDict(frozen=True)

    path: Path
    format: VideoFormat
    codec: str = Field(description="ffmpeg encoder used")
    duration: float = Field(description="seconds, from the frames actually written")
    frames: int
    fps: int
    size: tuple[int, int]
    images: list[Path] = Field(description="the input images, in the order shown")
    settings: VideoSettings
    bytes: int
    encode_seconds: float
    ffmpeg: Path
    command: list[str] = Field(description="the ffmpeg argument list as it was run")
