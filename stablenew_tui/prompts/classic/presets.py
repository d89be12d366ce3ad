"""Classic StableNew presets: `NAME.json` files in the preset folders, or a file given by path.

A preset is a settings file of the same format as a pack's sidecar (see `settings_file`); a
run takes it as a settings layer between the config and the pack. Names stay inside their
folders: no `..`, no leading `/` or drive, and no file reaching outside through a link.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path

from stablenew_tui.errors import InputError
from stablenew_tui.prompts.classic.settings_file import ClassicSettings, read_settings_file

PRESET_SUFFIX = ".json"
_DRIVE = re.compile(r"[A-Za-z]:")


class PresetError(InputError):
    """A preset is missing, named outside its folders, or malformed."""


def preset_names(folders: Iterable[Path]) -> list[str]:
    """Every preset in `folders`, by name; the first folder holding a name wins."""
    names: dict[str, None] = {}
    for folder in folders:
        if folder.is_dir():
            root = folder.resolve()
            for path in sorted(folder.glob(f"*{PRESET_SUFFIX}")):
                if not path.name.startswith(".") and path.resolve().is_relative_to(root):
                    names.setdefault(path.stem)
    return sorted(names)


def find_preset(name_or_file: str, folders: list[Path]) -> Path:
    """The preset file: `name_or_file` itself when it is an existing file, else the preset so
    named in `folders`. An unknown name is an error naming the folders searched."""
    given = Path(name_or_file).expanduser()
    if given.suffix == PRESET_SUFFIX and given.is_file():
        return given
    name = name_or_file.removesuffix(PRESET_SUFFIX)
    if not name or "/" in name or "\\" in name or _DRIVE.match(name) or name.startswith("."):
        raise PresetError(
            f"preset name {name_or_file!r} leaves the preset folders: give a name from them "
            "or the path of an existing .json file"
        )
    for folder in folders:
        path = folder / f"{name}{PRESET_SUFFIX}"
        if path.is_file() and path.resolve().is_relative_to(folder.resolve()):
            return path
    where = ", ".join(str(folder) for folder in folders)
    if not where:
        raise PresetError(f"no preset named {name!r}: no preset folders are configured "
                          "([paths] preset_folders in the config)")  # fmt: skip
    close = difflib.get_close_matches(name, preset_names(folders), n=3, cutoff=0.5)
    hint = f" (closest names: {', '.join(close)})" if close else ""
    raise PresetError(f"no preset named {name!r} in {where}{hint}")


def load_preset(name_or_file: str, folders: list[Path]) -> ClassicSettings:
    return read_settings_file(find_preset(name_or_file, folders), PresetError)
