"""The wheel ships everything the app loads: built from a copy of the sources (no stale
build/ folder), it holds every file of `stablenew_tui/data`, and unpacked on its own it finds
its themes, example packs and example wildcards from any working folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT / "stablenew_tui" / "data"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(
        REPO_ROOT / "stablenew_tui", source / "stablenew_tui",
        ignore=shutil.ignore_patterns("__pycache__"),
    )  # fmt: skip
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist),
         str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if built.returncode != 0 and "No matching distribution found" in built.stderr:
        pytest.skip(f"the build requirements cannot be installed here: {built.stderr[-300:]}")
    assert built.returncode == 0, built.stderr
    (found,) = dist.glob("stablenew_tui-*.whl")
    return found


def test_wheel_holds_every_data_file(wheel: Path) -> None:
    shipped = {
        f"stablenew_tui/data/{path.relative_to(DATA).as_posix()}"
        for path in DATA.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    names = set(zipfile.ZipFile(wheel).namelist())
    assert shipped - names == set()
    themes = {name for name in shipped if name.startswith("stablenew_tui/data/themes/")}
    packs = {name for name in shipped if name.startswith("stablenew_tui/data/packs/")}
    wildcards = {name for name in shipped if name.startswith("stablenew_tui/data/wildcards/")}
    assert len(themes) == 3 and len(packs) >= 4 and len(wildcards) >= 8


def test_unpacked_wheel_works_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "installed"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
         str(target), str(wheel)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The unpacked wheel comes first on the path, before the checkout this test runs from.
    env = {**os.environ, "PYTHONPATH": str(target), "STABLENEW_HOME": str(tmp_path / "home")}

    def stablenew(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "stablenew_tui", *args], cwd=elsewhere, env=env,
            capture_output=True, text=True, timeout=90, check=False,
        )  # fmt: skip

    themes = subprocess.run(
        [sys.executable, "-c",
         "import stablenew_tui\n"
         "from stablenew_tui.tui.themes import BUNDLED_THEMES, load_themes\n"
         "loaded = load_themes(BUNDLED_THEMES)\n"
         "print(stablenew_tui.__file__)\n"
         "print(sorted(theme.name for theme in loaded.themes), loaded.problems)"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    module_file, theme_list = themes.stdout.splitlines()
    assert Path(module_file).is_relative_to(target)
    assert theme_list == "['stablenew-dark', 'stablenew-high-contrast', 'stablenew-light'] []"

    expanded = stablenew("prompts", "expand", "__animals__", "--count", "3", "--seed", "7")
    assert expanded.returncode == 0, expanded.stderr
    assert len(expanded.stdout.splitlines()) == 3

    ran = stablenew("run", "--demo", "creatures", "--images-per-prompt", "1")
    assert ran.returncode == 0, ran.stderr
    assert len(list((tmp_path / "home" / "output").glob("*_creatures/txt2img/*.png"))) == 3

    missing = stablenew("prompts", "expand", "landscape")
    assert missing.returncode == 2
    assert "no pack named 'landscape' in " in missing.stderr
    assert "use --prompt for prompt text" in missing.stderr
