"""Where a key of a decoded JSON or TOML file is written, and where a setting came from.

Neither decoder reports where a value sits, so lines are found in the text: a key's line by
its name searched from its table's line on, a text's line by the text itself. When nothing
is found, the line searched from stands in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stablenew_tui.errors import InputError
from stablenew_tui.prompts.errors import PackError


@dataclass(frozen=True)
class SettingsOrigin:
    """Where one stage setting was written: the key as the file spells it, and its line."""

    key: str
    line: int | None


class KeyLines:
    def __init__(self, path: Path, text: str, kind: type[InputError] = PackError) -> None:
        """`text` is the file's text, `path` names it in errors of type `kind`."""
        self.path = path
        self.lines = text.splitlines()
        self.kind = kind

    def of_path(self, *keys: str) -> int:
        """The line of a nested key (`"txt2img", "steps"`): each found after the one before."""
        line = 1
        for key in keys:
            line = self.of_key(key, line)
        return line

    def of_key(self, key: str, start: int = 1) -> int:
        """The first line from `start` where `key` is written as a key or a table name."""
        pattern = re.compile(rf"(^|[\s{{,.\[])[\"']?{re.escape(key)}[\"']?\s*([=:\]]|\.)")
        return self._first(lambda line: pattern.search(line) is not None, start)

    def of_text(self, text: str, start: int) -> int:
        """The first line from `start` holding `text`'s first line, as written or escaped."""
        first = text.splitlines()[0] if text.strip() else text
        escaped = json.dumps(first, ensure_ascii=False)[1:-1]
        return self._first(lambda line: first in line or escaped in line, start)

    def _first(self, matches: Callable[[str], bool], start: int) -> int:
        for number in range(max(start, 1), len(self.lines) + 1):
            if matches(self.lines[number - 1]):
                return number
        return start

    def error(self, message: str, line: int) -> InputError:
        return self.kind(message, source=str(self.path), line=line)
