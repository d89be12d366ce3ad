"""Fixtures shared by every test layer."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = REPO_ROOT / "tests" / "data"


@pytest.fixture(autouse=True)
def stablenew_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own config, state and output folder; nothing touches $HOME."""
    home = tmp_path / "stablenew-home"
    monkeypatch.setenv("STABLENEW_HOME", str(home))
    return home
