"""Wildcard folders written fresh for each test, and helpers to draw prompts from templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from stablenew_tui.prompts import (
    PromptSampler,
    SamplingMode,
    SegmentLocks,
    Template,
    WildcardLibrary,
)

# Values here never collide with the words tests use as variant options.
WILDCARD_FILES = {
    "colors.txt": "# primary colours\nred\n  blue  \n\ngreen\nred\n",
    "shapes/basic.txt": "circle\nsquare\n",
    "shapes/fancy.txt": "star\n{big|small} heart\n",
    "nested.txt": "__colors__ __shapes/basic__\n",
    "art.yaml": "art:\n  painting:\n    - oil\n    - watercolor\n  sculpture: [marble]\n",
    "moods.json": '{"moods": {"calm": ["serene", "quiet"], "loud": ["brash"]}}',
}


def write_files(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def wildcard_dir(tmp_path: Path) -> Path:
    return write_files(tmp_path / "wildcards", WILDCARD_FILES)


@pytest.fixture
def library(wildcard_dir: Path) -> WildcardLibrary:
    return WildcardLibrary([wildcard_dir])


def draw_texts(
    template: str,
    library: WildcardLibrary | None = None,
    *,
    mode: str = "random",
    count: int = 10,
    seed: int = 0,
    locks: SegmentLocks | None = None,
) -> list[str]:
    sampler = PromptSampler(Template.parse(template), library, mode=SamplingMode(mode), locks=locks)
    return [prompt.text for prompt in sampler.prompts(range(seed, seed + count))]
