"""How fast each node makes a job, learned from the jobs it finishes, and kept across runs.

A job's *work* is its megapixels × sampling steps over the stages it goes through
(`job_work`). Per node the time of a job is fitted as `seconds ≈ a + b · work`: `a` is what
every job costs whatever its size (the request, decoding, saving), `b` the node's pace. The
fit weighs recent jobs most (a node's speed changes when something else uses its GPU) and
sets aside an observation far off the rest (a job that waited on a swap, a retry) before the
least squares, so one outlier moves nothing.

Checkpoint loads are kept apart, per (node, model): a load costs once per switch, not per
job, and counting it into the pace would make a node look slow exactly when it switched. No
WebUI reports how long a load took (A1111's `info` and infotext carry generation parameters
only, `modules/processing.py` `create_infotext`), and a separate benchmark measures another
moment than the run's (sd-webui-distributed#11). So a load is measured where it happens: the
first job on a node after its checkpoint changed takes longer than the fit says a job of its
work takes, and that extra time is the load. Such a job is not fed to the fit itself.

The book is one small JSON file in the data folder, written atomically; a missing or
unreadable one starts empty (with a warning when unreadable). A save keeps what the file
holds of the nodes this book has learned nothing new about, so two processes on different
nodes keep each other's speeds; of a node both learned about, the last writer's is kept (each
is a fine estimate).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.atomic import write_text_atomic
from stablenew_tui.pipeline.jobs import PromptSpec
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.pipeline.stage_requests import hires_size, img2img_sampling, upscaled_size

SPEEDS_NAME = "node_speeds.json"
BOOK_VERSION = 1
KEPT = 32  # observations kept per node
HALF_LIFE = 8.0  # an observation weighs half as much after this many newer ones
LOADS_KEPT = 5  # load times kept per (node, model); their median is the estimate
# An extras upscale is one pass of an upscaling network over the output, about as long as
# six sampling steps at that size on a mid-range GPU (ESRGAN-class models).
EXTRAS_STEPS_PER_MEGAPIXEL = 6.0
# Residuals beyond this many robust deviations (MAD × 1.4826) are outliers.
OUTLIER_DEVIATIONS = 3.0
# ...but never closer than this share of a typical job's time: a near-perfect fit must not
# call ordinary jitter an outlier.
OUTLIER_FLOOR = 0.05

log = logging.getLogger("stablenew.speeds")


def job_work(spec: PromptSpec, settings: PipelineSettings) -> float:
    """Megapixels × steps over the job's enabled stages, as the server samples them."""
    base = settings.txt2img
    source = (spec.image.width, spec.image.height) if spec.image else None
    size = source or hires_size(settings)
    pass_steps = img2img_sampling(settings)["steps"]
    work = 0.0
    if settings.enabled("txt2img"):
        work += _megapixels(base.width, base.height) * base.steps
        if base.hires:  # the second pass runs its own steps in full (`sample_hr_pass`)
            work += _megapixels(*size) * (base.hires_steps or base.steps)
    if settings.enabled("img2img"):
        denoising = settings.img2img.denoising_strength
        work += _megapixels(*size) * _denoised_steps(pass_steps, denoising)
    if settings.enabled("adetailer"):
        # ADetailer inpaints each region at the image's size; one region is the usual case.
        ad = settings.adetailer
        work += _megapixels(*size) * _denoised_steps(ad.steps or pass_steps, ad.denoise)
    if settings.enabled("upscale"):
        upscale = settings.upscale
        out = _megapixels(*upscaled_size(settings, source))
        if upscale.method == "img2img":
            work += out * _denoised_steps(pass_steps, upscale.denoising_strength)
        else:
            work += out * EXTRAS_STEPS_PER_MEGAPIXEL
    return work


def _megapixels(width: int, height: int) -> float:
    return width * height / 1e6


def _denoised_steps(steps: int, denoising: float) -> int:
    """The steps an img2img pass samples: A1111 starts `denoising × steps` from the end
    (`modules/sd_samplers_common.py`, `setup_img2img_steps`)."""
    return int(min(denoising, 0.999) * steps) + 1


@dataclass
class _Node:
    samples: list[tuple[float, float]] = field(default_factory=list)  # (work, s), oldest first
    loads: dict[str, list[float]] = field(default_factory=dict)
    fit: tuple[float, float] | None = None  # (a, b), refitted after each observation


class SpeedBook:
    def __init__(self, path: Path, nodes: dict[str, _Node] | None = None) -> None:
        self.path = path
        self._nodes = nodes or {}
        self._learned: set[str] = set()  # nodes observed since the book was read

    @classmethod
    def load(cls, path: Path) -> SpeedBook:
        return cls(path, _read(path, warn=True))

    def save(self) -> None:
        """Atomic; a failure costs only the speeds learned since the last save, and is only
        logged: the disk that refused it refuses the queue's writes too, which say so."""
        learned = {name: self._nodes[name] for name in self._learned}
        self._nodes = {**self._nodes, **_read(self.path, warn=False), **learned}
        data = {
            "version": BOOK_VERSION,
            "nodes": {
                name: {"samples": [list(sample) for sample in node.samples], "loads": node.loads}
                for name, node in self._nodes.items()
            },
        }
        try:
            write_text_atomic(self.path, json.dumps(data, indent=1))
        except OSError as error:
            log.info("could not save node speeds to %s: %s", self.path, error)

    def observe(self, node: str, work: float, seconds: float) -> None:
        if not (work > 0 and seconds >= 0 and math.isfinite(work + seconds)):
            return
        entry = self._nodes.setdefault(node, _Node())
        entry.samples = [*entry.samples, (work, seconds)][-KEPT:]
        entry.fit = None
        self._learned.add(node)

    def observe_load(self, node: str, model: str, seconds: float) -> None:
        if not (seconds >= 0 and math.isfinite(seconds)):
            return
        loads = self._nodes.setdefault(node, _Node()).loads
        loads[model] = [*loads.get(model, []), seconds][-LOADS_KEPT:]
        self._learned.add(node)

    def estimate(self, node: str, work: float) -> float | None:
        fit = self._fit(node)
        if fit is None:
            return None
        a, b = fit
        return a + b * work

    def load_seconds(self, node: str, model: str) -> float | None:
        entry = self._nodes.get(node)
        times = entry.loads.get(model) if entry else None
        return _median(times) if times else None

    def rate(self, node: str) -> float | None:
        """Work per second at the size of the node's latest job, its fixed cost included."""
        entry = self._nodes.get(node)
        if entry is None or not entry.samples:
            return None
        work = entry.samples[-1][0]
        seconds = self.estimate(node, work)
        return work / seconds if seconds else None

    def _fit(self, node: str) -> tuple[float, float] | None:
        entry = self._nodes.get(node)
        if entry is None or not entry.samples:
            return None
        if entry.fit is None:
            entry.fit = fit_line(entry.samples)
        return entry.fit


def fit_line(samples: list[tuple[float, float]]) -> tuple[float, float]:
    """(a, b) of `seconds ≈ a + b · work`, recency-weighted, outliers set aside, a and b ≥ 0.

    A robust first line (weighted medians of pairwise slopes, Theil–Sen) tells the outliers;
    weighted least squares over the rest gives the fit. Jobs all of one size cannot tell `a`
    from `b`: the line then goes through the origin, right for that size and proportional
    for others."""
    count = len(samples)
    weights = [0.5 ** ((count - 1 - i) / HALF_LIFE) for i in range(count)]
    works = [work for work, _ in samples]
    a, b = _robust_line(samples, weights)
    residuals = [abs(seconds - a - b * work) for work, seconds in samples]
    typical = _weighted_median([seconds for _, seconds in samples], weights)
    limit = max(OUTLIER_DEVIATIONS * 1.4826 * _weighted_median(residuals, weights),
                OUTLIER_FLOOR * typical)  # fmt: skip
    kept = [i for i in range(count) if residuals[i] <= limit]
    kept_works = [works[i] for i in kept]
    if _spread(kept_works):
        a, b = _least_squares([samples[i] for i in kept], [weights[i] for i in kept])
        if a >= 0 and b >= 0:
            return a, b
    # One size only, or a line that would need a negative cost: through the origin.
    through_origin = sum(weights[i] * works[i] * samples[i][1] for i in kept) / sum(
        weights[i] * works[i] ** 2 for i in kept
    )
    return 0.0, through_origin


def _robust_line(samples: list[tuple[float, float]], weights: list[float]) -> tuple[float, float]:
    slopes: list[float] = []
    slope_weights: list[float] = []
    for i, (work_i, seconds_i) in enumerate(samples):
        for j in range(i):
            work_j, seconds_j = samples[j]
            if _spread([work_i, work_j]):
                slopes.append((seconds_i - seconds_j) / (work_i - work_j))
                slope_weights.append(weights[i] * weights[j])
    if slopes:
        b = max(_weighted_median(slopes, slope_weights), 0.0)
        a = _weighted_median([seconds - b * work for work, seconds in samples], weights)
        return a, b
    ratios = [seconds / work for work, seconds in samples]
    return 0.0, _weighted_median(ratios, weights)


def _least_squares(samples: list[tuple[float, float]], weights: list[float]) -> tuple[float, float]:
    total = sum(weights)
    mean_x = sum(w * x for w, (x, _) in zip(weights, samples, strict=True)) / total
    mean_y = sum(w * y for w, (_, y) in zip(weights, samples, strict=True)) / total
    sxx = sum(w * (x - mean_x) ** 2 for w, (x, _) in zip(weights, samples, strict=True))
    sxy = sum(w * (x - mean_x) * (y - mean_y) for w, (x, y) in zip(weights, samples, strict=True))
    b = sxy / sxx
    return mean_y - b * mean_x, b


def _spread(works: list[float]) -> bool:
    """Whether the works differ enough (5 %) to tell a fixed cost from a pace."""
    return bool(works) and max(works) > 1.05 * min(works)


def _weighted_median(values: list[float], weights: list[float]) -> float:
    ordered = sorted(zip(values, weights, strict=True))
    half, running = sum(weights) / 2, 0.0
    for value, weight in ordered:
        running += weight
        if running >= half:
            return value
    return ordered[-1][0]


def _median(values: list[float]) -> float:
    return _weighted_median(values, [1.0] * len(values))


def _read(path: Path, warn: bool) -> dict[str, _Node]:
    """The nodes of the book at `path`; none when there is none or it is not readable."""
    try:
        return _nodes_from(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as error:
        if warn:
            log.warning("%s: ignored, not readable (%s); node speeds start afresh", path, error)
        return {}


def _nodes_from(data: Any) -> dict[str, _Node]:
    """The book's nodes; ValueError/TypeError/KeyError when the file is not one."""
    if not isinstance(data, dict) or data.get("version") != BOOK_VERSION:
        raise ValueError(f"not a version {BOOK_VERSION} speed book")
    nodes: dict[str, _Node] = {}
    for name, entry in data["nodes"].items():
        samples = [(float(work), float(seconds)) for work, seconds in entry["samples"]]
        loads = {
            str(model): [float(seconds) for seconds in times]
            for model, times in entry["loads"].items()
        }
        if any(work <= 0 or seconds < 0 for work, seconds in samples):
            raise ValueError(f"node {name!r}: a job of no work or negative time")
        nodes[str(name)] = _Node(samples[-KEPT:], loads)
    return nodes
