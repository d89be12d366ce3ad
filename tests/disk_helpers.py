"""Small real disks for tests: a tmpfs of a given size, mounted for the block (root only).

Skips the test when not root or when the system refuses the mount (a container without the
capability); unmounts in any case.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest


@contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """`folder` as a tmpfs of `size` ("256k", "4m") until the block ends."""
    if os.geteuid() != 0:
        pytest.skip("a small real disk needs root to mount a tmpfs")
    folder.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)]
    result = subprocess.run(mount, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"mounting a tmpfs was refused: {result.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def remount(folder: Path, options: str) -> None:
    """Change a small disk's mount options: "size=16m" to make room, "ro" to refuse writes."""
    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True)


def fill_disk(folder: Path) -> Path:
    """Take every free byte of the disk holding `folder`; returns the filler file, whose
    removal gives the space back."""
    filler = folder / "filler"
    block = b"\0" * 4096
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with suppress(OSError):
            while os.write(fd, block) > 0:
                pass
    finally:
        os.close(fd)
    return filler
