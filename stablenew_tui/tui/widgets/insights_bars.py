"""Bars drawn with characters, for the Insights tab: a rating scale with an interval on it, and
a length bar in eighths of a cell."""

from __future__ import annotations

from rich.text import Text

LOW, HIGH = 1.0, 5.0  # the rating scale
_EIGHTHS = " ▏▎▍▌▋▊▉█"


def rating_scale(low: float, mean: float, high: float, overall: float, width: int) -> Text:
    """The 1–5 scale in `width` cells: the 80 % interval as a line, the shrunk mean as a dot,
    the overall mean as a faint mark, so above and below average show at a glance."""
    cells = ["·"] * width
    cells[_cell(overall, width)] = "┊"
    for position in range(_cell(low, width), _cell(high, width) + 1):
        cells[position] = "━"
    cells[_cell(mean, width)] = "●"
    text = Text("".join(cells), no_wrap=True)
    text.stylize("dim", 0, width)
    text.stylize("not dim bold", _cell(low, width), _cell(high, width) + 1)
    return text


def length_bar(value: float, largest: float, width: int) -> str:
    """`value` as a bar, `largest` filling all `width` cells."""
    if largest <= 0:
        return ""
    eighths = round(min(value / largest, 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(width)


def _cell(rating: float, width: int) -> int:
    share = (min(max(rating, LOW), HIGH) - LOW) / (HIGH - LOW)
    return min(int(share * width), width - 1)
