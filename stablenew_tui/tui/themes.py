"""Themes are data: TOML files shipped in the package (`data/themes`) and in the user's themes
folder.

A broken file is reported and skipped; a configured theme that does not exist falls back to
the default. Neither ever stops the app.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError
from textual.theme import Theme

from stablenew_tui.errors import first_problem
from stablenew_tui.paths import bundled_data

BUNDLED_THEMES = bundled_data("themes")
DEFAULT_THEME = "stablenew-dark"


class _ThemeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    primary: str
    secondary: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    accent: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    dark: bool = True
    variables: dict[str, str] = {}


@dataclass
class LoadedThemes:
    themes: list[Theme] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def load_themes(*folders: Path) -> LoadedThemes:
    loaded = LoadedThemes()
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
                spec = _ThemeFile.model_validate(data)
                theme = Theme(**spec.model_dump())
                _check_colors(theme)
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as error:
                loaded.problems.append(f"{path}: not a readable theme file ({error})")
                continue
            except ValidationError as error:
                _, key, message = first_problem(error)
                loaded.problems.append(f"{path}: {key or 'file'}: {message}")
                continue
            except ValueError as error:
                loaded.problems.append(f"{path}: {error}")
                continue
            loaded.themes.append(theme)
    return loaded


def _check_colors(theme: Theme) -> None:
    """Textual parses colors lazily; parse them now so a typo is caught at load time."""
    from textual.color import Color, ColorParseError

    for key in ("primary", "secondary", "warning", "error", "success", "accent", "foreground",
                "background", "surface", "panel", "boost"):  # fmt: skip
        value = getattr(theme, key)
        if value is None:
            continue
        try:
            Color.parse(value)
        except ColorParseError:
            raise ValueError(f"{key}: {value!r} is not a color") from None
