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
import threading
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
    folder = path.resolve().parent.parent  # a run folder, if it came from a run
    try:
        stat = (folder / MANIFEST_NAME).stat()
    except OSError:
        return Provenance(image, embedded=embedded)
    manifest = _manifest(folder, (stat.st_size, stat.st_mtime_ns))
    line = manifest.by_path.get(path.resolve().relative_to(folder).as_posix())
    if line is None:
        return Provenance(image, embedded=embedded)
    return Provenance(image, manifest.by_job[line.get("job_id")], line, embedded)


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


@dataclass(frozen=True)
class _Manifest:
    by_path: dict[str, dict[str, Any]]  # run-relative path → its line
    by_job: dict[Any, list[dict[str, Any]]]  # job id → its lines, in stage order


# The last manifests read, by run folder, with the size and time of the file when read.
_READ: dict[Path, tuple[tuple[int, int], _Manifest]] = {}
_KEEP = 8
_READ_LOCK = threading.Lock()  # details and refining read from threads


def _manifest(folder: Path, stamp: tuple[int, int]) -> _Manifest:
    """A run's manifest, indexed; read again only when the file has changed since (`stamp`:
    its size and time), so opening image after image of one long run reads it once."""
    with _READ_LOCK:
        kept = _READ.get(folder)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    manifest = _index(read_manifest(folder))
    with _READ_LOCK:
        _READ.pop(folder, None)
        _READ[folder] = (stamp, manifest)
        while len(_READ) > _KEEP:
            del _READ[next(iter(_READ))]  # the oldest
    return manifest


def _index(lines: list[dict[str, Any]]) -> _Manifest:
    by_job: dict[Any, list[dict[str, Any]]] = {}
    for line in sorted(lines, key=_stage_position):
        by_job.setdefault(line.get("job_id"), []).append(line)
    by_path = {line["path"]: line for line in lines if isinstance(line.get("path"), str)}
    return _Manifest(by_path, by_job)


def _stage_position(line: dict[str, Any]) -> int:
    stage = line.get("stage")
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)
