"""The classic StableNew's stage keys, mapped onto our stage settings.

A key becomes one of our settings (`txt2img.enable_hr` → `txt2img.hires`), or asks for what
we do anyway (an empty `vae` keeps the loaded one, `refiner_checkpoint` "None" means none, a
batch of 1) and is taken quietly, or asks for something we cannot do and gives one warning
naming the file, its line and the key. Values are checked where they merge with the other
settings layers, so a wrong one is reported at its line too. How the classic app sent each
key is in its `src/pipeline/executor.py` (`run_txt2img_stage`, `run_img2img_stage`,
`run_upscale_stage`, `_normalize_config_for_pipeline`, `_parse_sampler_config`).
"""

from __future__ import annotations

import re
from typing import Any

from stablenew_tui.prompts.classic.extension_keys import (
    ADETAILER_SWITCHES,
    map_adetailer,
    map_variants,
)
from stablenew_tui.prompts.key_lines import KeyLines, SettingsOrigin

# The WebUI's scheduler labels, and the names and aliases it also reads
# (modules/sd_schedulers.py `schedulers`).
_SCHEDULERS = {
    "automatic": "Automatic", "uniform": "Uniform", "karras": "Karras",
    "exponential": "Exponential", "polyexponential": "Polyexponential",
    "sgm uniform": "SGM Uniform", "sgm_uniform": "SGM Uniform", "sgmuniform": "SGM Uniform",
    "kl optimal": "KL Optimal", "kl_optimal": "KL Optimal",
    "align your steps": "Align Your Steps", "align_your_steps": "Align Your Steps",
    "simple": "Simple", "normal": "Normal", "ddim": "DDIM", "beta": "Beta", "turbo": "Turbo",
}  # fmt: skip
_HASH = re.compile(r" \[[0-9a-fA-F]{8,64}\]$")

# Keys that map one to one: classic key → our key, per section.
_SAME = {
    "txt2img": {
        "steps": "steps", "cfg_scale": "cfg_scale", "width": "width", "height": "height",
        "seed": "seed", "clip_skip": "clip_skip", "enable_hr": "hires",
        "hr_scale": "hires_scale", "hr_upscaler": "hires_upscaler",
        "denoising_strength": "hires_denoising", "refiner_switch_at": "refiner_switch_at",
    },
    "img2img": {"steps": "steps", "cfg_scale": "cfg_scale",
                "denoising_strength": "denoising_strength"},
    "upscale": {"upscaler": "upscaler", "upscaling_resize": "scale", "scale": "scale",
                "denoising_strength": "denoising_strength", "codeformer_weight":
                "codeformer_weight"},
}  # fmt: skip
# Keys taken quietly while they hold these values (they ask for nothing); any other value
# gives a warning. The GUI-only keys of the classic app (never sent) are quiet whatever
# they hold while their feature is off.
_QUIET: dict[str, dict[str, Any]] = {
    "txt2img": {
        "seed_resize_from_h": -1, "seed_resize_from_w": -1, "hr_resize_x": 0, "hr_resize_y": 0,
        "styles": [], "tiling": False, "restore_faces": False,
        "face_restoration_enabled": False, "refiner_switch_steps": 0, "prompt": "",
    },
    "img2img": {"seed": -1, "prompt_adjust": "", "negative_adjust": "",
                "restore_faces": False, "batch_size": 1, "batch_count": 1, "n_iter": 1},
    "pipeline": {"txt2img_enabled": True, "loop_type": "single", "loop_count": 1,
                 "refiner_compare_mode": False},
    "video": {"quality": "medium"},
}  # fmt: skip
_ALWAYS_QUIET: dict[str, set[str]] = {
    # Where the WebUI would save its own copy: this app keeps the images itself.
    "txt2img": {"do_not_save_samples", "do_not_save_grid", "face_restoration_model",
                "face_restoration_weight"},
    # The classic GUI's pack selection.
    "pipeline": {"pack_mode", "allow_hr_with_stages"},
}  # fmt: skip
_WHY = {
    "txt2img.prompt": "not used: the classic app never sent it either",
    "img2img.seed": "img2img works from each image's own seed",
    "img2img.prompt_adjust": "img2img uses the image's own prompt",
    "img2img.negative_adjust": "img2img uses the image's own negative",
    "pipeline.txt2img_enabled": "txt2img always runs",
    "video.quality": "the encoder's speed preset is not set here; the default quality is used",
}
_STAGE_SWITCHES = ("img2img", "adetailer", "upscale", "video")
_HYPERNETWORK_KEYS = {"hypernetwork", "hypernetwork_strength"}  # see extension_keys
_CODECS = {"libx264": "mp4", "h264": "mp4", "libvpx-vp9": "webm", "libvpx": "webm", "gif": "gif"}


class StageMapper:
    """Collects the settings table, where each value came from, and the warnings."""

    def __init__(self, lines: KeyLines) -> None:
        self.lines = lines
        self.table: dict[str, Any] = {}
        self.origins: dict[tuple[str, ...], SettingsOrigin] = {}
        self.warnings: list[str] = []
        self.negative = ""

    def map(self, document: dict[str, Any]) -> None:
        sections = {name: _table(document, name, self.lines) for name in _SECTIONS}
        for name, section in sections.items():
            _SECTIONS[name](self, section)
        self._stages(sections)
        map_variants(self, sections)
        self._images_per_prompt(sections)
        self._hires_before_other_stages(sections)

    # -- helpers ---------------------------------------------------------------------------

    def put(self, target: str, value: Any, *written: str) -> None:
        """Set our `target` ("txt2img.steps") to `value`, written as `written` in the file."""
        *parents, leaf = target.split(".")
        node = self.table
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
        self.origins[tuple(target.split("."))] = SettingsOrigin(
            ".".join(written), self.lines.of_path(*written)
        )

    def warn(self, message: str, *written: str) -> None:
        where = f"{self.lines.path}:{self.lines.of_path(*written)}"
        self.warnings.append(f"{where}: {'.'.join(written)}: {message}")

    def keys(self, name: str, section: dict[str, Any], handled: set[str]) -> None:
        """The one-to-one keys of a section; quiet keys; a warning for each of the rest."""
        for key, value in section.items():
            where = f"{name}.{key}"
            if key in _SAME.get(name, {}):
                self.put(f"{name}.{_SAME[name][key]}", value, name, key)
            elif key in handled or key in _ALWAYS_QUIET.get(name, set()):
                continue
            elif key in _QUIET.get(name, {}):
                if value != _QUIET[name][key]:
                    self.warn(_WHY.get(where, "not supported here; ignored"), name, key)
            else:
                self.warn(_WHY.get(where, "unknown key; ignored"), name, key)

    # -- sections --------------------------------------------------------------------------

    def txt2img(self, section: dict[str, Any]) -> None:
        handled = {"model", "sd_model_checkpoint", "vae", "sampler_name", "scheduler",
                   "hr_sampler_name", "hires_steps", "hr_second_pass_steps",
                   "refiner_checkpoint", "batch_size", "batch_count", "n_iter",
                   "negative_prompt", *_HYPERNETWORK_KEYS}  # fmt: skip
        if section.get("refiner_switch_steps"):
            handled.add("refiner_switch_steps")
        self.keys("txt2img", section, handled)
        for key in ("model", "sd_model_checkpoint"):
            if section.get(key):
                self.put("txt2img.model", section[key], "txt2img", key)
                break
        if section.get("vae"):  # "" keeps the VAE loaded
            self.put("txt2img.vae", section["vae"], "txt2img", "vae")
        self.sampler("txt2img", section)
        if section.get("hr_sampler_name"):  # "" uses the same sampler
            self.put("txt2img.hires_sampler", section["hr_sampler_name"], "txt2img",
                     "hr_sampler_name")  # fmt: skip
        for key in ("hr_second_pass_steps", "hires_steps"):  # the GUI's name for the first
            if key in section:
                self.put("txt2img.hires_steps", section[key], "txt2img", key)
                break
        if "refiner_checkpoint" in section:
            refiner = section["refiner_checkpoint"]
            none = not isinstance(refiner, str) or refiner.strip() in ("", "None")
            # The classic app sent the refiner without its hash.
            self.put("txt2img.refiner", None if none else _HASH.sub("", refiner.strip()),
                     "txt2img", "refiner_checkpoint")  # fmt: skip
        switch_steps = section.get("refiner_switch_steps")
        if isinstance(switch_steps, int) and switch_steps > 0:
            steps = section.get("steps", 20)
            ratio = min(0.99, max(0.01, switch_steps / steps)) if isinstance(steps, int) else 0.8
            self.put("txt2img.refiner_switch_at", round(ratio, 4), "txt2img",
                     "refiner_switch_steps")  # fmt: skip
        negative = section.get("negative_prompt", "")
        if not isinstance(negative, str):
            raise self.lines.error("txt2img.negative_prompt: expected text",
                                   self.lines.of_path("txt2img", "negative_prompt"))  # fmt: skip
        self.negative = negative.strip()

    def img2img(self, section: dict[str, Any]) -> None:
        handled = {"enabled", "model", "vae", "sampler_name", "scheduler", "clip_skip"}
        self.keys("img2img", section, handled | _HYPERNETWORK_KEYS)
        if section.get("model"):
            self.put("img2img.model", section["model"], "img2img", "model")
        self.sampler("img2img", section)
        txt2img = self.table.get("txt2img", {})
        for key, ours in (("vae", "vae"), ("clip_skip", "clip_skip")):
            value = section.get(key)
            if value not in (None, "") and value != txt2img.get(ours):
                self.warn(
                    f"one {key.replace('_', ' ')} serves every stage here: "
                    f"txt2img's ({txt2img.get(ours, 'as loaded')})",
                    "img2img",
                    key,
                )

    def upscale(self, section: dict[str, Any]) -> None:
        img2img_only = {"steps", "sampler_name", "scheduler", "cfg_scale"}
        self.keys("upscale", section, {"enabled", "mode", "upscale_mode",
                                          "gfpgan_visibility", "codeformer_visibility",
                                          *img2img_only})  # fmt: skip
        for key in ("upscale_mode", "mode"):
            if key in section:
                mode = section[key]
                if mode not in ("single", "img2img"):
                    raise self.lines.error(f"upscale.{key}: {mode!r}: expected single or img2img",
                                           self.lines.of_path("upscale", key))  # fmt: skip
                self.put("upscale.method", "extras" if mode == "single" else "img2img",
                         "upscale", key)  # fmt: skip
                if mode == "img2img":
                    for other in sorted(img2img_only & set(section)):
                        self.warn("the img2img upscale uses the img2img stage's sampler, "
                                  "steps and CFG", "upscale", other)  # fmt: skip
                break
        self.face_restoration(section)

    def face_restoration(self, section: dict[str, Any]) -> None:
        gfpgan = section.get("gfpgan_visibility", 0) or 0
        codeformer = section.get("codeformer_visibility", 0) or 0
        if "gfpgan_visibility" not in section and "codeformer_visibility" not in section:
            return
        if codeformer:  # one restorer per upscale here; the classic app sent both
            if gfpgan:
                self.warn("one face restorer per upscale here: CodeFormer is used",
                          "upscale", "gfpgan_visibility")  # fmt: skip
            self.put("upscale.face_restoration", "codeformer", "upscale", "codeformer_visibility")
            self.put("upscale.face_restoration_strength", codeformer, "upscale",
                     "codeformer_visibility")  # fmt: skip
        elif gfpgan:
            self.put("upscale.face_restoration", "gfpgan", "upscale", "gfpgan_visibility")
            self.put("upscale.face_restoration_strength", gfpgan, "upscale", "gfpgan_visibility")
        else:
            self.put("upscale.face_restoration", "none", "upscale", "gfpgan_visibility")

    def pipeline(self, section: dict[str, Any]) -> None:
        handled = {f"{stage}_enabled" for stage in _STAGE_SWITCHES} | {
            "images_per_prompt", "model_matrix", "hypernetworks", "variant_mode"}  # fmt: skip
        for stage in ("txt2img", "img2img", "adetailer", "upscale"):
            key = f"apply_global_negative_{stage}"
            handled.add(key)
            if key in section:
                self.put(f"{stage}.apply_global_negative", section[key], "pipeline", key)
        self.keys("pipeline", section, handled)

    def video(self, section: dict[str, Any]) -> None:
        self.keys("video", section, {"enabled", "fps", "codec"})
        fps = section.get("fps")
        if fps is not None:
            # The classic app showed each image for one frame (src/pipeline/video.py).
            self.put("video.fps", fps, "video", "fps")
            if isinstance(fps, int) and fps > 0:
                self.put("video.seconds_per_image", 1 / fps, "video", "fps")
                self.put("video.crossfade", 0.0, "video", "fps")
        codec = section.get("codec")
        if codec is not None:
            if codec in _CODECS:
                self.put("video.format", _CODECS[codec], "video", "codec")
            else:
                self.warn(f"{codec!r} is not offered: mp4 (libx264), webm (libvpx-vp9) or gif",
                          "video", "codec")  # fmt: skip

    def api(self, section: dict[str, Any]) -> None:
        why = {"base_url": "not used: nodes come from [[nodes]] in the config or --node",
               "timeout": "not used: set [client] read_timeout in the config"}  # fmt: skip
        for key in section:
            self.warn(why.get(key, "not used"), "api", key)

    def unsupported_block(self, name: str, message: str, section: dict[str, Any]) -> None:
        if section:
            on = section.get("enabled") or section.get(f"{name}_enabled")
            self.warn(message + ("" if on else " (it is off in this file)"), name)

    def aesthetic(self, section: dict[str, Any]) -> None:
        self.unsupported_block("aesthetic", "aesthetic gradients are not supported; ignored",
                               section)  # fmt: skip

    def adetailer(self, section: dict[str, Any]) -> None:
        map_adetailer(self, section)

    # -- what several sections decide together ----------------------------------------------

    def sampler(self, stage: str, section: dict[str, Any]) -> None:
        """Sampler and scheduler as the WebUI pairs them: a scheduler named at the end of the
        sampler name wins over the scheduler key (modules/sd_samplers.py
        `get_sampler_and_scheduler`); scheduler names in any case become their labels."""
        sampler, scheduler = section.get("sampler_name"), section.get("scheduler")
        if isinstance(sampler, str) and sampler.strip():
            sampler = sampler.strip()
            for name in sorted(_SCHEDULERS, key=len, reverse=True):
                if sampler.lower().endswith(" " + name):
                    sampler, scheduler = sampler[: -len(name) - 1], _SCHEDULERS[name]
                    self.put(f"{stage}.scheduler", scheduler, stage, "sampler_name")
                    break
            self.put(f"{stage}.sampler", sampler, stage, "sampler_name")
        if "scheduler" in section and f"{stage}.scheduler" not in self._written():
            if isinstance(scheduler, str):
                scheduler = _SCHEDULERS.get(scheduler.strip().lower(), scheduler.strip())
            self.put(f"{stage}.scheduler", scheduler, stage, "scheduler")

    def _written(self) -> set[str]:
        return {".".join(location) for location in self.origins}

    def _stages(self, sections: dict[str, dict[str, Any]]) -> None:
        """The pipeline's switches, else a stage section's own `enabled`, decide the stages;
        a file that says nothing about them leaves the stages to the other layers."""
        pipeline = sections["pipeline"]
        switches: dict[str, Any] = {}
        for stage in _STAGE_SWITCHES:
            if f"{stage}_enabled" in pipeline:
                switches[stage] = ("pipeline", f"{stage}_enabled", pipeline[f"{stage}_enabled"])
            else:
                own = ADETAILER_SWITCHES if stage == "adetailer" else ("enabled",)
                for key in (key for key in own if key in sections[stage]):
                    switches[stage] = (stage, key, sections[stage][key])
                    break
        if not switches:
            return
        stages = ["txt2img"] + [stage for stage, (*_, on) in switches.items() if on is True]
        first = min(switches.values(), key=lambda where: self.lines.of_path(*where[:2]))
        self.put("stages", stages, *first[:2])

    def _images_per_prompt(self, sections: dict[str, dict[str, Any]]) -> None:
        """Every image is a job of its own here: a batch of n makes n images."""
        factors = [
            (section, key, sections[section][key])
            for section, key in (("pipeline", "images_per_prompt"), ("txt2img", "batch_size"),
                                 ("txt2img", "batch_count"), ("txt2img", "n_iter"))
            if key in sections[section]
        ]  # fmt: skip
        if not factors:
            return
        total: Any = 1
        for section, key, value in factors:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise self.lines.error(f"{section}.{key}: {value!r}: expected a whole number, "
                                       "1 or more", self.lines.of_path(section, key))  # fmt: skip
            total *= value
        self.put("images_per_prompt", total, *factors[0][:2])

    def _hires_before_other_stages(self, sections: dict[str, dict[str, Any]]) -> None:
        """The classic app turned hires fix off when img2img or upscale followed, unless
        `pipeline.allow_hr_with_stages` (`_normalize_config_for_pipeline`); its defaults had
        both on."""
        pipeline = sections["pipeline"]
        if self.table.get("txt2img", {}).get("hires") is not True:
            return
        later = pipeline.get("img2img_enabled", True) or pipeline.get("upscale_enabled", True)
        if later and not pipeline.get("allow_hr_with_stages", False):
            self.put("txt2img.hires", False, "txt2img", "enable_hr")
            self.warn("hires fix off, as the classic app turned it off when img2img or "
                      "upscale follow; pipeline.allow_hr_with_stages keeps it", "txt2img",
                      "enable_hr")  # fmt: skip


def _table(document: dict[str, Any], name: str, lines: KeyLines) -> dict[str, Any]:
    section = document.get(name, {})
    if not isinstance(section, dict):
        raise lines.error(f"{name}: expected an object", lines.of_key(name))
    return section


_SECTIONS = {
    "txt2img": StageMapper.txt2img,
    "img2img": StageMapper.img2img,
    "upscale": StageMapper.upscale,
    "pipeline": StageMapper.pipeline,
    "video": StageMapper.video,
    "api": StageMapper.api,
    "aesthetic": StageMapper.aesthetic,
    "adetailer": StageMapper.adetailer,
}
KNOWN_SECTIONS = (*_SECTIONS, "randomization")
