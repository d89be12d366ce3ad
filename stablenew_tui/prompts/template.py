"""A parsed template: its top-level segments, the unit that locks, pins and choices refer to.

A segment is either a literal run or a top-level construct. Randomized constructs (variants,
wildcards, variable uses and immediate `${v=!…}` assignments) get a stable 1-based index in
order of appearance. Literal runs and deferred `${v=…}` definitions have no index: they never
resolve to a choice of their own (a deferred definition is drawn again at each use).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from stablenew_tui.prompts.errors import Origin
from stablenew_tui.prompts.grammar import (
    Assignment,
    Node,
    VariableUse,
    Variant,
    Wildcard,
    parse_spans,
)


@dataclass(frozen=True, slots=True)
class Segment:
    index: int | None  # 1-based for randomized constructs; None for literal text
    source: str  # the segment's text in the template, e.g. "{red|blue}"
    node: Node
    offset: int  # where `source` starts in the template text

    @property
    def kind(self) -> str:
        """One of literal, variant, wildcard, assignment, definition, variable."""
        node = self.node
        if isinstance(node, str):
            return "literal"
        if isinstance(node, Variant):
            return "variant"
        if isinstance(node, Wildcard):
            return "wildcard"
        if isinstance(node, Assignment):
            return "assignment" if node.immediate else "definition"
        return "variable"


@dataclass(frozen=True)
class Template:
    text: str
    source: str
    segments: tuple[Segment, ...]

    @classmethod
    def parse(cls, text: str, source: str = "prompt", first_line: int = 1) -> Template:
        """Parse `text`; a `TemplateError` names `source` and the line counted from `first_line`."""
        origin = Origin(source, text, first_line)
        segments = []
        index = 0
        for node, start, end in parse_spans(text, origin):
            randomized = isinstance(node, Variant | Wildcard | VariableUse) or (
                isinstance(node, Assignment) and node.immediate
            )
            if randomized:
                index += 1
            segments.append(Segment(index if randomized else None, text[start:end], node, start))
        return cls(text, source, tuple(segments))

    @cached_property
    def randomized(self) -> tuple[Segment, ...]:
        """The segments that have an index, in index order."""
        return tuple(segment for segment in self.segments if segment.index is not None)

    def segment(self, index: int) -> Segment | None:
        """The segment with 1-based `index`, or None."""
        if 1 <= index <= len(self.randomized):
            return self.randomized[index - 1]
        return None
