"""Errors of the prompt engine, each able to point at the offending line and column."""

from __future__ import annotations

from dataclasses import dataclass

from stablenew_tui.errors import InputError


class TemplateError(InputError):
    """A template (or a wildcard file it uses) cannot be parsed or resolved."""


class WildcardFileError(TemplateError):
    """A wildcard file is unreadable or holds something other than names and text values."""


class PackError(InputError):
    """A prompt pack is missing, malformed, or named outside its folder."""


class LockError(InputError):
    """A lock or pin refers to a segment or option the template does not have."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a parsed text came from, so an error can name the file, line and column.

    `first_line` is the line of `text`'s first character in `source`, or None when the
    source has no lines to speak of (a value inside a JSON wildcard file).
    """

    source: str
    text: str
    first_line: int | None = 1

    def error(
        self, message: str, offset: int, kind: type[TemplateError] = TemplateError
    ) -> TemplateError:
        """The error for `message` at character `offset` of `text`, with the line and a caret."""
        offset = max(0, min(offset, len(self.text)))
        line_start = self.text.rfind("\n", 0, offset) + 1
        line_end = self.text.find("\n", offset)
        if line_end < 0:
            line_end = len(self.text)
        line = None
        if self.first_line is not None:
            line = self.first_line + self.text.count("\n", 0, line_start)
        return kind(
            message,
            source=self.source,
            line=line,
            column=offset - line_start + 1,
            excerpt=self.text[line_start:line_end],
        )
