"""Everything known about one finished image, as labelled lines for its details view.

Read from the run's manifest (every setting sent, per stage), or, for an image from anywhere
else, from the infotext it carries. The same facts the WebUI's PNG Info shows, plus what only
this app knows: the template and its random choices, the run's global negative apart from the
prompt's own negative (and which stages appended it), the node, the timings, what a server did
not report (`unverified`), and the image a refined one started from.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.pipeline.provenance import Provenance, image_provenance

# Sent settings shown elsewhere in the view (the prompt) or not worth a line.
_SHOWN_APART = ("prompt", "negative_prompt")
# The label of the rows on the run's global negative, told apart from the prompt's own.
GLOBAL_NEGATIVE = "global negative"


@dataclass(frozen=True)
class DetailSection:
    title: str
    rows: list[tuple[str, str]]  # (label, value)


@dataclass(frozen=True)
class ImageDetails:
    path: str
    prompt: str
    negative: str
    seed: int | None
    sections: list[DetailSection] = field(default_factory=list)


def image_details(path: str) -> ImageDetails:
    """The details of the image at `path`. Blocking (reads the file and its run's manifest);
    raises InputError when the file is gone or not an image."""
    origin = image_provenance(Path(path))
    sections = [_prompt_section(origin)]
    if origin.lines:
        sections.append(_glance_section(origin))
    elif origin.parsed is not None:
        sections.append(DetailSection("parameters (from the infotext)",
                                      list(origin.parsed.parameters.items())))  # fmt: skip
    sections.append(_file_section(origin))
    sections.extend(_stage_section(line) for line in origin.lines)
    if origin.infotext:
        sections.append(DetailSection("infotext", [("", origin.infotext)]))
    return ImageDetails(path, origin.prompt or "", origin.negative, origin.seed, sections)


def _file_section(origin: Provenance) -> DetailSection:
    image, line = origin.image, origin.line or {}
    rows = [
        ("file", image.path),
        ("format", f"{image.format.upper()} {image.width}×{image.height}"),
        ("sha256", image.sha256),
    ]
    source = line.get("source_image")
    if isinstance(source, dict):
        rows.append(("refined from", str(source.get("path", ""))))
    if line.get("run_id"):
        rows.append(("run", f"{line['run_id']} · image {int(line.get('index', 0)) + 1}"))
    return DetailSection("image", rows)


def _prompt_section(origin: Provenance) -> DetailSection:
    line = origin.line or {}
    rows = [("prompt", origin.prompt or ""), ("negative", origin.negative or "(none)")]
    if line.get("global_negative"):
        appended = [str(item["stage"]) for item in origin.lines if _applied(item)]
        where = f"appended at {', '.join(appended)}" if appended else "appended at no stage"
        rows.append((GLOBAL_NEGATIVE, f"{line['global_negative']} · {where}"))
    if line.get("template") is not None:
        rows.append(("template", str(line["template"])))
        choices = line.get("choices") or {}
        picked = " · ".join(f"{index}: {text}" for index, text in choices.items())
        rows.append(("choices", picked or "(none: nothing random)"))
        held = line.get("locks") or {}
        if held:
            rows.append(("held", " · ".join(f"{index}: {text}" for index, text in held.items())))
        rows.append(("mode", f"{line.get('mode')} · prompt seed {line.get('prompt_seed')}"))
    return DetailSection("prompt", rows)


def _glance_section(origin: Provenance) -> DetailSection:
    """The settings people look for first, from the job's last stage that sampled."""
    sampled = [line for line in origin.lines if line.get("model") or _sent(line, "sampler_name")]
    line = sampled[-1] if sampled else origin.lines[-1]
    model = str(line.get("model") or "as loaded")
    if line.get("model_hash"):
        model += f" [{line['model_hash']}]"
    sampler = _sent(line, "sampler_name") or ""
    scheduler = _sent(line, "scheduler") or "automatic"
    seconds = sum(float(item.get("seconds") or 0) for item in origin.lines)
    image = origin.image
    return DetailSection("made with", [
        ("seed", str(origin.seed) if origin.seed is not None else "unknown"),
        ("model", model),
        ("VAE", str(line.get("vae") or "as loaded")),
        ("sampler", f"{sampler} · {scheduler}" if sampler else "(none: upscaled)"),
        ("steps · CFG", f"{_sent(line, 'steps')} · {_sent(line, 'cfg_scale')}"),
        ("size", f"{image.width}×{image.height}"),
        ("node", str(line.get("node", ""))),
        ("time", f"{seconds:.1f} s over {len(origin.lines)} stage(s)"),
    ])  # fmt: skip


def _stage_section(line: dict[str, Any]) -> DetailSection:
    settings = line.get("settings") or {}
    rows = [
        ("started", _clock(line.get("started"))),
        ("took", f"{float(line.get('seconds') or 0):.2f} s on {line.get('node', '')}"),
        ("file", str(line.get("path", ""))),
    ]
    if line.get("unverified"):
        rows.append(("unverified", ", ".join(str(item) for item in line["unverified"])))
    if line.get("global_negative") and "negative_prompt" in settings:
        said = "appended" if _applied(line) else "not appended: this stage's switch is off"
        rows.append(("negative sent", str(settings["negative_prompt"]) or "(none)"))
        rows.append((GLOBAL_NEGATIVE, said))
    rows.extend(
        (key, _value(value)) for key, value in sorted(settings.items())
        if key not in _SHOWN_APART
    )  # fmt: skip
    return DetailSection(f"{line.get('stage', '?')}: every setting sent", rows)


def _applied(line: dict[str, Any]) -> bool:
    """Whether the stage of this manifest line appended the run's global negative."""
    return bool(line.get("global_negative_applied"))


def _sent(line: dict[str, Any], key: str) -> Any:
    return (line.get("settings") or {}).get(key)


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _clock(when: Any) -> str:
    if not isinstance(when, int | float):
        return "unknown"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))
