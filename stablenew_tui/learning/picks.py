"""Pairwise picks between images of a comparison grid: `picks.jsonl` in the data folder, next
to the ratings.

Append-only through `stablenew_tui.jsonl` (whole lines, fsynced), one line per pick: which of
two images was preferred. An image is keyed by its path, as ratings are, with its job and its
cell of the grid; each line also carries the grid's axes and template, so the report needs no
other file. A skipped pair writes nothing.

Which pair to show next (`next_pair`) follows what teaches the ranking most: the image with
the fewest picks so far, against the image closest to it in the current ranking that it has
met least often (two images far apart in strength would only confirm what is known).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.jsonl import append_lines, read_jsonl

PICKS_NAME = "picks.jsonl"


@dataclass(frozen=True)
class PickedImage:
    path: str
    job_id: str
    cell: dict[str, str]


@dataclass(frozen=True)
class Pick:
    run_id: str
    preferred: PickedImage
    other: PickedImage
    axes: list[dict[str, Any]]  # the grid, as `ComparisonGrid.describe` gives it
    template: str | None = None
    time: float = field(default_factory=time.time)

    def as_line(self) -> dict[str, Any]:
        return {
            "time": self.time, "run_id": self.run_id, "axes": self.axes,
            "template": self.template,
            "preferred": vars(self.preferred), "other": vars(self.other),
        }  # fmt: skip

    @classmethod
    def from_line(cls, data: Mapping[str, Any]) -> Pick:
        return cls(
            run_id=str(data["run_id"]),
            preferred=_image(data["preferred"]),
            other=_image(data["other"]),
            axes=list(data["axes"]),
            template=data.get("template"),
            time=float(data["time"]),
        )


def _image(data: Mapping[str, Any]) -> PickedImage:
    cell = data["cell"]
    if not isinstance(cell, dict):
        raise TypeError("a cell is a table")
    return PickedImage(str(data["path"]), str(data["job_id"]), {**cell})


class PickStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.picks: list[Pick] = []
        read = read_jsonl(path)
        self.skipped_lines = list(read.skipped_lines)
        for number, data in read.numbered:
            try:
                self.picks.append(Pick.from_line(data))
            except (KeyError, TypeError, ValueError):
                self.skipped_lines.append(number)
        self.skipped_lines.sort()

    def record(self, pick: Pick) -> None:
        """Blocking (fsync): async callers run it in a thread."""
        append_lines(self.path, [pick.as_line()])
        self.picks.append(pick)

    def of_run(self, run_id: str) -> list[Pick]:
        return [pick for pick in self.picks if pick.run_id == run_id]


def next_pair(
    images: Sequence[str],
    picks: Sequence[Pick],
    strengths: Mapping[str, float],
    skipped: Sequence[frozenset[str]] = (),
) -> tuple[str, str] | None:
    """The two images (paths) to compare next, or None when fewer than two are left. Pairs
    in `skipped` come last; `strengths` is the current ranking (missing: 0)."""
    if len(images) < 2:
        return None
    seen: Counter[str] = Counter()
    met: Counter[frozenset[str]] = Counter()
    for pick in picks:
        pair = frozenset((pick.preferred.path, pick.other.path))
        seen.update(pair)
        met[pair] += 1
    passed = set(skipped)

    def priority(pair: tuple[str, str]) -> tuple[Any, ...]:
        a, b = pair
        key = frozenset(pair)
        return (
            key in passed,
            min(seen[a], seen[b]),  # the least-compared image first
            met[key],  # a pair not yet met before one met already
            abs(strengths.get(a, 0.0) - strengths.get(b, 0.0)),  # close in the ranking
            seen[a] + seen[b],
            images.index(a), images.index(b),
        )  # fmt: skip

    return min(itertools.combinations(images, 2), key=priority)
