"""Reading an infotext's parameter line, the only place a WebUI names some of what it used.

    <prompt>
    Negative prompt: <negative prompt>
    Steps: 20, Sampler: Euler a, Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 512x512, ...

The `info` JSON of an answer has no scheduler and, on Forge, no VAE: the schedule the sampler
really ran with ("Schedule type") and Forge's additional modules ("Module 1", ...) are only in
the infotext. Values holding a comma, colon or newline are JSON-quoted, as A1111 writes them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_PARAMETER = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
# A last line with fewer pairs than this is part of the prompt, as A1111's reader decides.
_MIN_PARAMETERS = 3


def parameter_pairs(line: str) -> list[tuple[str, str]]:
    """The `key: value` pairs of a parameter line, in order, quoted values unquoted."""
    return [(key, _unquoted(raw)) for key, raw in _PARAMETER.findall(line)]


def infotext_parameters(infotext: str) -> dict[str, str]:
    """The parameters of an infotext by name; empty when it has no parameter line."""
    last = infotext.strip().rsplit("\n", 1)[-1]
    return dict(parameter_pairs(last)) if is_parameter_line(last) else {}


@dataclass(frozen=True)
class ParsedInfotext:
    prompt: str
    negative: str
    parameters: dict[str, str]


def parse_infotext(infotext: str) -> ParsedInfotext:
    """Prompt, negative prompt and parameters, split as the WebUI's "PNG Info" paste splits
    them (A1111 `modules/infotext_utils.py`, `parse_generation_parameters`): every line
    before the one starting `Negative prompt:` is the prompt, the rest up to the parameter
    line the negative."""
    *lines, last = infotext.strip().split("\n")
    if not is_parameter_line(last):
        lines.append(last)
        last = ""
    prompt: list[str] = []
    negative: list[str] = []
    for line in (line.strip() for line in lines):
        if line.startswith("Negative prompt:"):
            negative.append(line.removeprefix("Negative prompt:").strip())
        elif negative:
            negative.append(line)
        else:
            prompt.append(line)
    return ParsedInfotext("\n".join(prompt), "\n".join(negative), dict(parameter_pairs(last)))


def is_parameter_line(line: str) -> bool:
    return len(_PARAMETER.findall(line)) >= _MIN_PARAMETERS


def _unquoted(raw: str) -> str:
    if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            return raw
        return value if isinstance(value, str) else raw
    return raw
