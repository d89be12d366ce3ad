"""Where config, state and images live, and where the data shipped with the package is.

XDG by default; `STABLENEW_HOME=<dir>` puts everything under one folder, which keeps tests,
CI and portable installs hermetic.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


def bundled_data(name: str) -> Path:
    """A folder shipped inside the package (`themes`, `packs`, `wildcards`), found the same
    way in a source checkout and in an installed wheel."""
    # pip installs wheels as plain files, so the package's resources are a real folder.
    return Path(str(resources.files("stablenew_tui") / "data" / name))


@dataclass(frozen=True)
class AppPaths:
    config_file: Path
    data_dir: Path
    default_output_root: Path
    user_themes_dir: Path

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> AppPaths:
        env = os.environ if environ is None else environ
        home = env.get("STABLENEW_HOME")
        if home:
            root = Path(home).expanduser()
            return cls(
                config_file=root / "config.toml",
                data_dir=root / "data",
                default_output_root=root / "output",
                user_themes_dir=root / "themes",
            )
        user_home = Path(env.get("HOME") or Path.home())
        config_home = Path(env.get("XDG_CONFIG_HOME") or user_home / ".config")
        data_home = Path(env.get("XDG_DATA_HOME") or user_home / ".local" / "share")
        return cls(
            config_file=config_home / "stablenew" / "config.toml",
            data_dir=data_home / "stablenew",
            default_output_root=data_home / "stablenew" / "output",
            user_themes_dir=config_home / "stablenew" / "themes",
        )
