"""Which images make the video, in which order.

An input is a run folder (its final stage), a plain folder of images, or an image file. A run
folder holds one subfolder per stage and a `manifest.jsonl`, one JSON object per written file
with its `stage`, its `path` relative to the run folder and its job `index`. Images may be
PNG, JPEG or WebP, as the WebUI sent them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from stablenew_tui.errors import InputError
from stablenew_tui.jsonl import job_stage_key, last_per_key

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})
MANIFEST_NAME = "manifest.jsonl"
# The stage subfolders in the order a run fills them; the last one with images is the result.
RUN_STAGES = ("txt2img", "img2img", "adetailer", "upscale")


def collect_frames(inputs: str | Path | Sequence[str | Path]) -> list[Path]:
    """The images to show, in order. Each input adds its images; none at all is an error."""
    if isinstance(inputs, str | Path):
        inputs = [inputs]
    frames: list[Path] = []
    for item in inputs:
        frames.extend(_frames_of(Path(item)))
    if not frames:
        names = ", ".join(str(item) for item in inputs) or "no input given"
        raise InputError(f"no images to make a video from ({names})")
    return frames


def natural_key(name: str) -> list[str | int]:
    """Sort key that puts `img2.png` before `img10.png`."""
    # re.split with a group alternates text and digits, so equal positions hold equal types.
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name.lower())]


def _frames_of(path: Path) -> list[Path]:
    if path.is_dir():
        if (path / MANIFEST_NAME).is_file():
            return _frames_from_manifest(path)
        if any((path / stage).is_dir() for stage in RUN_STAGES):
            return _frames_of_last_stage(path)
        return _images_in(path)
    if path.is_file():
        return [path]
    raise InputError("no such file or folder", source=str(path))


def _images_in(folder: Path) -> list[Path]:
    # Hidden files are skipped: among them are the temp files of an encode in progress.
    images = [
        entry
        for entry in folder.iterdir()
        if entry.suffix.lower() in IMAGE_SUFFIXES
        and not entry.name.startswith(".")
        and entry.is_file()
    ]
    return sorted(images, key=lambda entry: natural_key(entry.name))


def _frames_of_last_stage(run: Path) -> list[Path]:
    for stage in reversed(RUN_STAGES):
        folder = run / stage
        if folder.is_dir() and (images := _images_in(folder)):
            return images
    return []


def _frames_from_manifest(run: Path) -> list[Path]:
    """The final stage's images. Stages rank by where they first appear in the manifest, so a
    stage this module does not know still counts; images keep job order."""
    manifest = run / MANIFEST_NAME
    by_stage: dict[str, list[tuple[int | None, Path]]] = {}
    # A job redone after a crash has newer lines; only the last one per job and stage counts.
    current = last_per_key(_manifest_entries(manifest), lambda numbered: job_stage_key(numbered[1]))
    for line_number, entry in current:
        stage, relative = entry.get("stage"), entry.get("path")
        if not isinstance(stage, str) or not isinstance(relative, str):
            continue
        if Path(relative).suffix.lower() not in IMAGE_SUFFIXES:
            continue  # e.g. a video written by an earlier encode
        image = run / relative
        if not image.is_file():
            raise InputError(
                f"lists {relative}, which does not exist", source=str(manifest), line=line_number
            )
        order = entry.get("index")
        by_stage.setdefault(stage, []).append((order if isinstance(order, int) else None, image))
    if not by_stage:
        return []
    entries = list(by_stage.values())[-1]
    # Nodes finish jobs out of order, so job order beats line order when every line has it.
    if all(order is not None for order, _ in entries):
        entries = sorted(entries, key=lambda pair: pair[0] or 0)
    return [image for _, image in entries]


def _manifest_entries(manifest: Path) -> Iterable[tuple[int, dict]]:
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read manifest: {error}", source=str(manifest)) from None
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            if line_number == len(lines):
                continue  # a last line torn by a crash while it was appended
            raise InputError(
                f"not a JSON line: {error.msg}", source=str(manifest), line=line_number
            ) from None
        if isinstance(entry, dict):
            yield line_number, entry
