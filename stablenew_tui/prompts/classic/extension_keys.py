"""The classic StableNew's ADetailer block and variant lists, mapped onto our settings.

How the classic app used them: `src/pipeline/executor.py` (`run_adetailer`, whose request the
`adetailer` block fills; `_ensure_hypernetwork`, which set each stage's hypernetwork) and
`src/pipeline/variant_planner.py` (`build_variant_plan`: `pipeline.model_matrix` ×
`pipeline.hypernetworks`, in `pipeline.variant_mode`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stablenew_tui.prompts.classic.stage_keys import StageMapper

# The block's keys are ours with an `adetailer_` prefix. Steps, CFG and sampler are mapped too:
# the classic app sent them as its img2img request's own values and ADetailer's "use separate"
# switches off, so the extension redrew the regions with them (it takes the request's values
# when a switch is off). Our stage skips that img2img pass, so it sends them with the switches on.
_ADETAILER_KEYS = ("model", "confidence", "dilation", "mask_feather", "denoise", "steps", "cfg",
                   "sampler", "prompt", "negative_prompt")  # fmt: skip
ADETAILER_SWITCHES = ("adetailer_enabled", "enabled")  # the block's own stage switch
_VARIANT_MODES = ("fanout", "rotate")
_NO_HYPERNETWORK = ("", "none")


def map_adetailer(mapper: StageMapper, section: dict[str, Any]) -> None:
    for key, value in section.items():
        ours = key.removeprefix("adetailer_")
        if key in ADETAILER_SWITCHES:
            continue
        if key.startswith("adetailer_") and ours in _ADETAILER_KEYS:
            # An empty prompt is the image's own, as the extension reads it (`_get_prompt`).
            empty = ours.endswith("prompt") and value == ""
            mapper.put(f"adetailer.{ours}", None if empty else value, "adetailer", key)
        else:
            mapper.warn("unknown key; ignored", "adetailer", key)


def map_variants(mapper: StageMapper, sections: dict[str, dict[str, Any]]) -> None:
    pipeline = sections["pipeline"]
    models = _names(mapper, pipeline, "model_matrix")
    if models:
        mapper.put("txt2img.model", models if len(models) > 1 else models[0], "pipeline",
                   "model_matrix")  # fmt: skip
        if sections["img2img"].get("model"):  # each variant's checkpoint served img2img too
            mapper.put("img2img.model", None, "pipeline", "model_matrix")
    hypernetworks = _hypernetworks(mapper, pipeline)
    if hypernetworks:
        mapper.put("variants.hypernetworks", hypernetworks, "pipeline", "hypernetworks")
    _stage_hypernetwork(mapper, sections, listed=bool(hypernetworks))
    if "variant_mode" in pipeline:
        mode = pipeline["variant_mode"]
        known = isinstance(mode, str) and mode.strip().lower() in _VARIANT_MODES
        if not known:  # the classic planner fell back to fanout
            mapper.warn(f"{mode!r}: expected fanout or rotate; fanout is used", "pipeline",
                        "variant_mode")  # fmt: skip
        mapper.put("variants.mode", mode.strip().lower() if known else "fanout", "pipeline",
                   "variant_mode")  # fmt: skip


def _names(mapper: StageMapper, section: dict[str, Any], key: str) -> list[Any]:
    """A list's entries without the empty ones, as the classic planner cleaned them."""
    value = section.get(key, [])
    if not isinstance(value, list):
        raise mapper.lines.error(f"pipeline.{key}: expected a list",
                                 mapper.lines.of_path("pipeline", key))  # fmt: skip
    texts = [entry.strip() if isinstance(entry, str) else entry for entry in value]
    return [entry for entry in texts if entry not in (None, "")]


def _hypernetworks(mapper: StageMapper, pipeline: dict[str, Any]) -> list[Any]:
    """Names, or {name, strength} tables; a missing strength is full strength."""
    choices: list[Any] = []
    for entry in _names(mapper, pipeline, "hypernetworks"):
        if isinstance(entry, dict):
            name = entry.get("name")
            if name is None or (isinstance(name, str) and not name.strip()):
                continue
            strength = entry.get("strength")
            choices.append({"name": name} | ({} if strength is None else {"strength": strength}))
        else:
            choices.append(entry)
    return choices


def _stage_hypernetwork(mapper: StageMapper, sections: dict[str, dict[str, Any]],
                        listed: bool) -> None:  # fmt: skip
    """The stages' own hypernetwork (the classic app set it before each stage): one serves
    every stage here, txt2img's, else img2img's; `pipeline.hypernetworks` wins over both."""
    named = [
        stage for stage in ("txt2img", "img2img")
        if str(sections[stage].get("hypernetwork") or "").strip().lower() not in _NO_HYPERNETWORK
    ]  # fmt: skip
    if not named:
        return
    first = sections[named[0]]
    if len(named) > 1 and sections["img2img"]["hypernetwork"] != first["hypernetwork"]:
        mapper.warn(f"one hypernetwork serves every stage here: txt2img's "
                    f"({first['hypernetwork']})", "img2img", "hypernetwork")  # fmt: skip
    if listed:
        return
    choice = {"name": first["hypernetwork"]}
    if first.get("hypernetwork_strength") is not None:
        choice["strength"] = first["hypernetwork_strength"]
    mapper.put("variants.hypernetworks", [choice], named[0], "hypernetwork")
