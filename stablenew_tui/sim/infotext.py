"""A1111's infotext: the text in an image's `parameters` (a PNG text chunk, or the JPEG/WebP
EXIF UserComment) and in `info["infotexts"]`.

    <prompt>
    Negative prompt: <negative prompt>
    Steps: 20, Sampler: Euler a, Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 512x512, ...

Values holding a comma, colon or newline are JSON-quoted, exactly as A1111 writes them, so other
tools (PNG Info, image browsers) parse them back.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_SIZE = re.compile(r"^(\d+)x(\d+)$")


def quote(value: Any) -> str:
    text = str(value)
    if "," not in text and "\n" not in text and ":" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def format_number(value: Any) -> Any:
    """Whole floats lose their ".0" ("CFG scale: 7"), as in the infotexts people share."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def build_infotext(prompt: str, negative_prompt: str, params: dict[str, Any]) -> str:
    """The infotext; parameters whose value is None are left out, in A1111's way."""
    line = ", ".join(
        f"{key}: {quote(format_number(value))}"
        for key, value in params.items()
        if value is not None
    )
    negative = f"\nNegative prompt: {negative_prompt}" if negative_prompt else ""
    return f"{prompt}{negative}\n{line}".strip()


def parse_infotext(text: str) -> dict[str, Any]:
    """The `parameters` dict `/png-info` returns: Prompt, Negative prompt, then one key per field.

    Values stay strings; "Size" also yields "Size-1" and "Size-2", as in A1111.
    """
    result: dict[str, Any] = {}
    *lines, last = text.strip().split("\n") if text.strip() else [""]
    if len(_PARAM.findall(last)) < 3:
        lines.append(last)
        last = ""
    prompt: list[str] = []
    negative: list[str] = []
    in_negative = False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:") :].strip()
        (negative if in_negative else prompt).append(line)
    result["Prompt"] = "\n".join(prompt)
    result["Negative prompt"] = "\n".join(negative)
    for key, raw in _PARAM.findall(last):
        value = raw
        if raw.startswith('"') and raw.endswith('"'):
            value = json.loads(raw)
        size = _SIZE.match(value)
        if size:
            result[f"{key}-1"], result[f"{key}-2"] = size.group(1), size.group(2)
        else:
            result[key] = value
    return result
