"""Every generated image checked against what its request asked for.

A WebUI answers 200 with an image even when it did not do what was asked: A1111 1.10 and Forge
replace an unknown sampler with their first one (`modules/sd_samplers.py`,
`get_sampler_and_scheduler`), drop a checkpoint override naming no checkpoint they know
(`modules/processing.py`, `process_images`), and another client may change the node's model at
any moment. The answer's `info` (and the infotext in it)
says what the image was really made with; any difference from the request fails the image.

What a server does not report cannot be checked: SD.Next's `info` has no `sd_model_name` or
`sd_vae_name`, and a server may leave out the infotext. Such checks are listed as unverified,
so the manifest never claims more than the server told. An ADetailer stage reports its main
pass as the extension's stand-in (`pipeline.adetailer`): its sampler and size say nothing, and
the extension's own infotext keys are checked instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from stablenew_tui.pipeline.adetailer import REPORTED_AS, detail_asked
from stablenew_tui.webui.errors import AnswerMismatch
from stablenew_tui.webui.infotext import infotext_parameters
from stablenew_tui.webui.models import GenerationResult, SDModel
from stablenew_tui.webui.requests import VAE_AUTOMATIC, VAE_NONE
from stablenew_tui.webui.resources import MODEL_FILE_SUFFIXES

# Fewer characters of a sha256 than this do not tell checkpoints apart (A1111 shows 10).
_MIN_HASH_LENGTH = 8
_FORGE_MODULE = re.compile(r"^Module \d+$")


@dataclass(frozen=True)
class Verdict:
    """What the checks found for one image: nothing wrong, and what could not be checked."""

    unverified: tuple[str, ...] = ()
    model: str | None = None  # as the server names it, or as asked when it does not say
    vae: str | None = None


@dataclass
class _Findings:
    differences: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    retriable: bool = True  # every difference so far is one a retry can cure

    def differ(self, what: str, asked: Any, made: Any, *, retriable: bool) -> None:
        self.differences.append(f"asked for {what} {asked!r}, the node made it with {made!r}")
        self.retriable = self.retriable and retriable


def check_image(
    sent: dict[str, Any],
    result: GenerationResult,
    models: Sequence[SDModel],
    *,
    node: str,
    index: int = 0,
) -> Verdict:
    """Compare image `index` of `result` with the request body `sent`; `models` is the node's
    checkpoint list, to know a checkpoint by every name it goes by.

    Raises AnswerMismatch naming every difference."""
    info = result.info
    reported = info.model_fields_set
    overrides = sent.get("override_settings") or {}
    infotext = _infotext(result, index)
    found = _Findings()
    model = _check_model(overrides.get("sd_model_checkpoint"), result, models, found)
    if "forge_additional_modules" in overrides:
        vae = _check_forge_modules(overrides["forge_additional_modules"], infotext, found)
    else:
        vae = _check_vae(overrides.get("sd_vae"), result, found)
    detail = detail_asked(sent)
    if detail is None:
        _check_sampler(sent, info.sampler_name, infotext, found)
    else:
        _check_detail(detail, infotext, found)
    _check_scheduler(sent.get("scheduler"), infotext, found)
    seeds = info.all_seeds or ([info.seed] if info.seed is not None else [])
    asked_seed = sent.get("seed")
    made_seed = seeds[index] if index < len(seeds) else None
    _check_value("seed", None if asked_seed == -1 else asked_seed, made_seed, found)
    if detail is not None:
        found.unverified.append("size")  # the image keeps its size; `info` has the stand-in's
    elif "width" in reported and "height" in reported:
        asked_size = _size(sent.get("width"), sent.get("height"))
        _check_value("size", asked_size, _size(info.width, info.height), found)
    elif sent.get("width") is not None:
        found.unverified.append("size")
    if found.differences:
        raise AnswerMismatch(node, found.differences, retriable=found.retriable)
    return Verdict(tuple(found.unverified), model, vae)


# -- checkpoint and VAE: a retry can help, the node's weights may have changed under us ----------


def _check_model(
    asked: str | None, result: GenerationResult, models: Sequence[SDModel], found: _Findings
) -> str | None:
    info = result.info
    name, short_hash = info.sd_model_name or None, info.sd_model_hash or None
    if asked is None:
        return name
    match = next((model for model in models if model.matches(asked)), None)
    expected_name = _file_stem(match.filename or match.title if match else asked)
    known_hashes = [value for value in (match.hash, match.sha256) if value] if match else []
    if short_hash and known_hashes:
        same = any(_same_hash(short_hash, known) for known in known_hashes)
    elif name:
        same = name == expected_name
    else:
        found.unverified.append("model")
        return asked
    if not same:
        made = f"{name} [{short_hash}]" if name and short_hash else name or short_hash
        found.differ("model", asked, made, retriable=True)
    return name or asked


def _check_vae(asked: str | None, result: GenerationResult, found: _Findings) -> str | None:
    """A1111 reports the VAE file it loaded as `sd_vae_name`, None when it loaded none."""
    reported = "sd_vae_name" in result.info.model_fields_set
    made = result.info.sd_vae_name or None
    if asked is None or asked == VAE_AUTOMATIC:
        return made
    if not reported:
        found.unverified.append("vae")
        return asked
    expected = None if asked == VAE_NONE else _file_name(asked)
    if (_file_name(made) if made else None) != expected:
        found.differ("VAE", asked, made or VAE_NONE, retriable=True)
    return made


def _check_forge_modules(
    asked: list[str], infotext: dict[str, str] | None, found: _Findings
) -> str | None:
    """Forge never fills `sd_vae_name`; its infotext lists the modules used as "Module N"
    (`modules/processing.py`, `create_infotext`), by file stem."""
    if infotext is None:
        found.unverified.append("vae")
        return ", ".join(asked) or None
    made = sorted(value for key, value in infotext.items() if _FORGE_MODULE.match(key))
    expected = sorted(_file_stem(module) for module in asked)
    if made != expected:
        found.differ("modules", asked, made, retriable=True)
    return ", ".join(asked) or None


# -- sampling choices: the server would make the same substitution again ------------------------


def _check_sampler(
    sent: dict[str, Any], made: str | None, infotext: dict[str, str] | None, found: _Findings
) -> None:
    asked = sent.get("sampler_name")
    if asked is None:
        return
    if not made:
        found.unverified.append("sampler")
        return
    spellings = [made]
    schedule = (infotext or {}).get("Schedule type")
    if schedule:  # since v1.9 "DPM++ 2M Karras" is split into a sampler and its schedule
        spellings.append(f"{made} {schedule}")
    if asked.casefold() not in (spelling.casefold() for spelling in spellings):
        found.differ("sampler", asked, made, retriable=False)


def _check_scheduler(asked: str | None, infotext: dict[str, str] | None, found: _Findings) -> None:
    """Only the infotext names the schedule a sampler ran with ("Schedule type")."""
    if asked is None or asked.casefold() == "automatic":
        return
    made = (infotext or {}).get("Schedule type")
    if made is None:
        found.unverified.append("scheduler")
    elif _scheduler_key(made) != _scheduler_key(asked):
        found.differ("scheduler", asked, made, retriable=False)


def _check_detail(
    detail: dict[str, Any], infotext: dict[str, str] | None, found: _Findings
) -> None:
    """The extension writes every value it used under its own keys; none at all means it did
    not run (not installed, disabled, or our arguments refused), and the image is not detailed."""
    found.unverified.append("sampler")  # the regions' sampler is reported only when separate
    if infotext is None:
        found.unverified.append("adetailer")
        return
    for key, label in REPORTED_AS.items():
        if key not in detail:
            continue
        made = infotext.get(label)
        if made is None or not _same_setting(detail[key], made):
            found.differ(label, detail[key], made, retriable=False)


def _same_setting(asked: Any, made: str) -> bool:
    """An infotext value against the one sent: numbers by value ("0.4", "4"), text as is."""
    if isinstance(asked, int | float) and not isinstance(asked, bool):
        try:
            return float(made) == float(asked)
        except ValueError:
            return False
    return str(asked) == made


def _check_value(what: str, asked: Any, made: Any, found: _Findings) -> None:
    if asked is None:
        return
    if made is None:
        found.unverified.append(what)
    elif made != asked:
        found.differ(what, asked, made, retriable=False)


# -- reading names ----------------------------------------------------------------------------


def _infotext(result: GenerationResult, index: int) -> dict[str, str] | None:
    infotexts = result.info.infotexts
    position = result.info.index_of_first_image + index
    if position >= len(infotexts):
        return None
    return infotext_parameters(infotexts[position]) or None


def _scheduler_key(name: str) -> str:
    """Schedulers have a name and a label ("sgm_uniform" / "SGM Uniform"): one key for both."""
    return name.casefold().replace(" ", "_")


def _file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _file_stem(path: str) -> str:
    """What A1111 calls a checkpoint in `info` and infotexts: its file name without folder,
    extension or the ` [hash]` a title carries (`CheckpointInfo.name_for_extra`)."""
    name = PurePosixPath(_file_name(path).split(" [", 1)[0])
    return name.stem if name.suffix.lower() in MODEL_FILE_SUFFIXES else name.name


def _same_hash(short: str, known: str) -> bool:
    length = min(len(short), len(known))
    return length >= _MIN_HASH_LENGTH and short[:length].lower() == known[:length].lower()


def _size(width: Any, height: Any) -> str | None:
    return f"{width}x{height}" if width is not None and height is not None else None
