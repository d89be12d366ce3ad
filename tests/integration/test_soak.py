"""A short soak (bench/soak.py) in CI: a few runs killed or faulted early, resumed, checked."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_a_short_soak_loses_repeats_and_tears_nothing():
    kinds = "kill,502,oom,hang,disk-full"  # disk-full is skipped where no tmpfs can be mounted
    result = subprocess.run(
        [sys.executable, "bench/soak.py", "--trials", "5", "--in-turn", "--kinds", kinds,
         "--seed", "11", "--window", "0.5"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=110,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert "0 lost, 0 duplicated, 0 torn, 0 sha256 mismatches, 0 partial, 0 stuck" in summary
    assert summary.endswith("0 trial(s) failed")
    table = result.stdout.split("\n\n")[-2].splitlines()
    assert table[0].startswith("trial  action") and len(table) == 6
