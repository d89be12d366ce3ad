"""Where an image came from: its run's manifest lines, or else the infotext it carries.

An image saved by a run sits in `<run folder>/<stage>/`, beside the run's `manifest.jsonl`;
the manifest has every setting sent for each stage of its job. An image from anywhere else
(another tool, a renamed folder) still carries its infotext (a PNG text chunk or the JPEG/WebP
EXIF comment), which names its prompt, negative prompt and seed. Refining an image and its
details view both read it here.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.jobs import SourceImage
from stablenew_tui.pipeline.outputs import MANIFEST_NAME, read_manifest
from stablenew_tui.pipeline.settings import STAGE_ORDER
from stablenew_tui.webui.images import embedded_infotext, sniff_format
from stablenew_tui.webui.infotext import ParsedInfotext, parse_infotext


@dataclass(frozen=True)
class Provenance:
    image: SourceImage
    lines: list[dict[str, Any]] = field(default_factory=list)  # its job's, in stage order
    line: dict[str, Any] | None = None  # the manifest line of this very image
    embedded: str | None = None  # the infotext the file carries

    @property
    def infotext(self) -> str | None:
        recorded = self.line.get("infotext") if self.line else None
        return recorded or self.embedded

    @property
    def parsed(self) -> ParsedInfotext | None:
        return parse_infotext(self.infotext) if self.infotext else None

    @property
    def prompt(self) -> str | None:
        if self.line is not None:
            return str(self.line.get("prompt", ""))
        return self.parsed.prompt if self.parsed else None

    @property
    def negative(self) -> str:
        if self.line is not None:
            return str(self.line.get("negative", ""))
        return self.parsed.negative if self.parsed else ""

    @property
    def seed(self) -> int | None:
        """The seed of the job that made it; an upscale by extras names none of its own."""
        for line in reversed(self.lines):
            if isinstance(line.get("seed"), int):
                return int(line["seed"])
        seed = self.parsed.parameters.get("Seed") if self.parsed else None
        return int(seed) if seed is not None and seed.lstrip("-").isdigit() else None


def image_provenance(path: Path) -> Provenance:
    """What is known of the image at `path`. Raises InputError when it is missing or not a
    PNG, JPEG or WebP image. Blocking: reads the file and the run's manifest."""
    image, embedded = read_image(path)
    lines = _job_lines(path)
    line = next((item for item in lines if _names(item, path)), None)
    return Provenance(image, lines if line is not None else [], line, embedded)


def read_image(path: Path) -> tuple[SourceImage, str | None]:
    """The image as a job's starting point (named by `path` as given), and the infotext it
    carries."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: a folder, not an image") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    image_format = sniff_format(data)
    if image_format is None:
        raise InputError(f"{path}: not a PNG, JPEG or WebP image")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
            infotext = embedded_infotext(opened)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as error:
        raise InputError(f"{path}: a damaged {image_format.name} image ({error})") from None
    source = SourceImage(
        path=str(path), sha256=hashlib.sha256(data).hexdigest(),
        format=image_format.value, width=width, height=height,
    )  # fmt: skip
    return source, infotext


def _job_lines(path: Path) -> list[dict[str, Any]]:
    """The manifest lines of the job that made `path`, if it sits in a run folder."""
    folder = path.resolve().parent.parent
    if not (folder / MANIFEST_NAME).is_file():
        return []
    lines = read_manifest(folder)
    mine = next((line for line in lines if _names(line, path)), None)
    if mine is None:
        return []
    job = [line for line in lines if line.get("job_id") == mine.get("job_id")]
    return sorted(job, key=_stage_position)


def _names(line: dict[str, Any], path: Path) -> bool:
    """Whether a manifest line is about the file at `path` (its path is run-relative)."""
    relative = line.get("path")
    resolved = path.resolve()
    return isinstance(relative, str) and resolved.parent.parent / relative == resolved


def _stage_position(line: dict[str, Any]) -> int:
    stage = line.get("stage")
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)
