"""Bars drawn with characters, for the Insights tab: a rating scale with an interval on it, and
a length bar in eighths of a cell."""

from __future__ import annotations

from rich.text import Text

LOW, HIGH = 1.0, 5.0  # the rating scale
# Strengths in log-odds: ±3 is a 95 % chance of being preferred, beyond what a few picks show.
STRENGTHS = (-3.0, 3.0)
_EIGHTHS = " ▏▎▍▌▋▊▉█"


def rating_scale(low: float, mean: float, high: float, overall: float, width: int) -> Text:
    """The 1–5 scale in `width` cells: the 80 % interval as a line, the shrunk mean as a dot,
    the overall mean as a faint mark, so above and below average show at a glance."""
    return _interval_bar(low, mean, high, overall, width, (LOW, HIGH))


def strength_scale(low: float, strength: float, high: float, width: int) -> Text:
    """A Bradley–Terry strength on the `STRENGTHS` scale, drawn as `rating_scale` draws a
    rating: its 80 % interval as a line, the strength as a dot, the middle (0) marked."""
    return _interval_bar(low, strength, high, 0.0, width, STRENGTHS)


def _interval_bar(
    low: float, mid: float, high: float, mark: float, width: int, bounds: tuple[float, float]
) -> Text:
    def cell(value: float) -> int:
        share = (min(max(value, bounds[0]), bounds[1]) - bounds[0]) / (bounds[1] - bounds[0])
        return min(int(share * width), width - 1)

    cells = ["·"] * width
    cells[cell(mark)] = "┊"
    for position in range(cell(low), cell(high) + 1):
        cells[position] = "━"
    cells[cell(mid)] = "●"
    text = Text("".join(cells), no_wrap=True)
    text.stylize("dim", 0, width)
    text.stylize("not dim bold", cell(low), cell(high) + 1)
    return text


def length_bar(value: float, largest: float, width: int) -> str:
    """`value` as a bar, `largest` filling all `width` cells."""
    if largest <= 0:
        return ""
    eighths = round(min(value / largest, 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(width)
