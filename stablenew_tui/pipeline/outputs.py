"""Run folders, image files and the manifest.

Image bytes are written exactly as the WebUI sent them, PNG, JPEG or WebP, with the extension
their signature names, so the embedded infotext survives for PNG Info and image browsers. Every
file appears atomically; the manifest is an fsynced append (`stablenew_tui.jsonl`), one line
per image, written when its job ends. A job redone after a crash writes its lines again, and
readers keep the last line per job and stage.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from stablenew_tui.atomic import write_bytes_atomic
from stablenew_tui.jsonl import append_lines, job_stage_key, last_per_key, read_jsonl
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
        """Blocking (fsync): async callers run it in a thread."""
        append_lines(self.folder / MANIFEST_NAME, entries)


def read_manifest(folder: Path) -> list[dict[str, Any]]:
    """The current line of every image: the last one written for its job and stage."""
    return last_per_key(read_jsonl(folder / MANIFEST_NAME).objects, job_stage_key)
