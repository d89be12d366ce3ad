"""Run folders, image files and the manifest.

Image bytes are written exactly as the WebUI sent them, PNG, JPEG or WebP, with the extension
their signature names, so the embedded infotext survives for PNG Info and image browsers. Every
file appears atomically; the manifest is an fsynced
append, one line per image, written when its job ends so a crash never leaves a line for an
image that a resumed run will write again.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from stablenew_tui.atomic import append_line_durable, write_bytes_atomic
from stablenew_tui.pipeline.jobs import Job, slugify
from stablenew_tui.webui.images import ReceivedImage

MANIFEST_NAME = "manifest.jsonl"


def new_run_folder(output_root: Path, name: str, created: float) -> Path:
    """`<root>/<YYYYMMDD-HHMMSS>_<slug>/`, made unique if two runs start in the same second."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(created))
    base = f"{stamp}_{slugify(name, 48)}"
    folder = output_root / base
    suffix = 2
    while folder.exists():
        folder = output_root / f"{base}-{suffix}"
        suffix += 1
    folder.mkdir(parents=True)
    return folder


class RunOutputs:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def image_path(self, stage: str, job: Job, extension: str) -> Path:
        """Index, seed and a short prompt slug: sortable, unique, and safe on any filesystem."""
        name = f"{job.index + 1:05d}_{job.seed}_{slugify(job.spec.prompt, 40)}{extension}"
        return self.folder / stage / name

    def save_image(self, stage: str, job: Job, image: ReceivedImage) -> tuple[Path, str]:
        """Write the bytes as received; returns the path and their sha256."""
        path = self.image_path(stage, job, image.extension)
        write_bytes_atomic(path, image.data)
        return path, hashlib.sha256(image.data).hexdigest()

    def relative(self, path: Path) -> str:
        return path.relative_to(self.folder).as_posix()

    def append_manifest(self, entries: list[dict[str, Any]]) -> None:
        if entries:
            lines = "\n".join(json.dumps(entry, ensure_ascii=False) for entry in entries)
            append_line_durable(self.folder / MANIFEST_NAME, lines)


def read_manifest(folder: Path) -> list[dict[str, Any]]:
    path = folder / MANIFEST_NAME
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a torn last line from a crash; the job is rerun on resume
    return entries
