"""The error family every layer raises; the CLI and the TUI turn it into one clear message.

`InputError` is anything the user can fix in a file or on the command line (exit code 2).
It carries where the problem is, so the message can name the file, the line and the column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError


class StableNewError(Exception):
    """Base of every error this project raises on purpose."""


class InputError(StableNewError):
    """Bad input from a file or the command line: a malformed pack, template, config, flag."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
        excerpt: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        self.excerpt = excerpt
        super().__init__(self.render())

    def location(self) -> str:
        """`file:line:column`, as much of it as is known."""
        parts = [self.source or ""]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def render(self) -> str:
        """One message: where, what, and the offending line with a caret when known."""
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.excerpt is not None and self.column is not None:
            caret = " " * max(self.column - 1, 0) + "^"
            text = f"{text}\n  {self.excerpt}\n  {caret}"
        return text


def first_problem(
    error: ValidationError, keep: Callable[[tuple[Any, ...]], bool] | None = None
) -> tuple[tuple[Any, ...], str, str]:
    """The first thing pydantic found wrong (of those whose location `keep` accepts): its
    location, that location as a dotted key, and a message in plain words ("unknown key"
    rather than pydantic's "Extra inputs…")."""
    problems = error.errors()
    first = next((p for p in problems if keep is None or keep(tuple(p["loc"]))), problems[0])
    location = tuple(first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    return location, ".".join(str(part) for part in location), message
