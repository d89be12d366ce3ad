"""A comparison grid: one prompt and seed made with every combination of a few settings.

`--axis cfg=5,7` names one axis and its values. Every combination of the axes' values is one
job, a *cell*; its job carries the cell (axis name → value as typed), so a cell's settings,
its place on the contact sheet and the pairwise picks all go back to the same words. Like
A1111's X/Y/Z plot (`scripts/xyz_grid.py`) the first axis is the sheet's columns, the second its
rows and a third gives one sheet per value.

The jobs run with the checkpoint axis outermost, then the VAE, so a node loads each checkpoint
once; the other axes keep the order the user gave them. Every cell draws the same prompt (the
template is drawn once, with the base seed) and has the same seed, unless seed is an axis.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.jobs import MAX_SEED, PromptSpec, Run
from stablenew_tui.pipeline.settings import PipelineSettings, merge_settings, settings_as_table
from stablenew_tui.pipeline.variants import PlannedImages

GRID_SOURCE = "comparison"  # the run source's key for the grid's axes
MAX_AXES = 3  # columns, rows, sheets
WEIGHT_AXES = ("model", "vae")  # set on the job itself, in this order outermost


class _OutOfRange(ValueError):
    """A value of the right form that the setting cannot take; its message says why."""


def _seed(text: str) -> None:
    if not 0 <= int(text) <= MAX_SEED:
        raise _OutOfRange(f"a seed is 0 to {MAX_SEED}")


def _size(text: str) -> dict[str, int]:
    width, sep, height = text.lower().partition("x")
    if not sep:
        raise ValueError("expected WIDTHxHEIGHT")
    return {"width": int(width), "height": int(height)}


# What each axis sets: a settings table from the value, or None for the job-level axes
# (checkpoint, VAE, seed) that live on the job rather than in the settings.
_AXES: dict[str, Callable[[str], dict[str, Any] | None]] = {
    "model": lambda text: None,
    "vae": lambda text: None,
    "seed": _seed,
    "sampler": lambda text: {"txt2img": {"sampler": text}},
    "scheduler": lambda text: {"txt2img": {"scheduler": text}},
    "cfg": lambda text: {"txt2img": {"cfg_scale": float(text)}},
    "steps": lambda text: {"txt2img": {"steps": int(text)}},
    "size": lambda text: {"txt2img": _size(text)},
    "width": lambda text: {"txt2img": {"width": int(text)}},
    "height": lambda text: {"txt2img": {"height": int(text)}},
    # Denoising of whichever second pass the run has: img2img, or hires fix.
    "denoising": lambda text: {
        "img2img": {"denoising_strength": float(text)},
        "txt2img": {"hires_denoising": float(text)},
    },
    "clip_skip": lambda text: {"txt2img": {"clip_skip": int(text)}},
}
AXIS_NAMES = tuple(_AXES)


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ComparisonGrid:
    axes: tuple[Axis, ...]

    @classmethod
    def parse(cls, texts: list[str]) -> ComparisonGrid:
        """`NAME=V1,V2,…` per axis, as typed after --axis; each value's form checked here,
        its range and the node's names once the settings are known (`check_values`)."""
        if not texts:
            raise InputError("--axis: give at least one, e.g. --axis cfg=5,7")
        if len(texts) > MAX_AXES:
            raise InputError(
                f"--axis: at most {MAX_AXES} (columns, rows, sheets), not {len(texts)}"
            )
        axes: list[Axis] = []
        for text in texts:
            name, sep, listed = text.partition("=")
            name = name.strip().lower().replace("-", "_")
            if name not in _AXES:
                raise InputError(
                    f"--axis {text!r}: no axis {name!r}; choose from {', '.join(AXIS_NAMES)}"
                )
            values = tuple(value.strip() for value in listed.split(",") if value.strip())
            if not sep or not values:
                raise InputError(f"--axis {text!r}: expected {name}=VALUE,VALUE,…")
            if any(axis.name == name for axis in axes):
                raise InputError(f"--axis {name}: given twice")
            if len(set(values)) != len(values):
                raise InputError(f"--axis {text!r}: a value is listed twice")
            for value in values:
                try:
                    _AXES[name](value)
                except ValueError as error:
                    raise InputError(f"--axis {name}={value}: {_reason(name, error)}") from None
            axes.append(Axis(name, values))
        return cls(tuple(axes))

    def cells(self) -> list[dict[str, str]]:
        """Every combination, checkpoint outermost, then VAE, then the axes as given."""
        order = sorted(self.axes, key=lambda axis: _run_rank(axis.name))  # stable
        cells = []
        for values in itertools.product(*(axis.values for axis in order)):
            chosen = {axis.name: value for axis, value in zip(order, values, strict=True)}
            cells.append({axis.name: chosen[axis.name] for axis in self.axes})
        return cells

    def describe(self) -> list[dict[str, Any]]:
        """As the run's source keeps it, so the sheet and pick mode can read it back."""
        return [{"name": axis.name, "values": list(axis.values)} for axis in self.axes]

    @classmethod
    def from_run(cls, run: Run) -> ComparisonGrid:
        """The grid a comparison run was planned from; InputError for any other run."""
        described = run.source.get(GRID_SOURCE)
        if not described:
            raise InputError(f"run {run.id} is not a comparison (`stablenew compare` makes one)")
        return cls(tuple(Axis(str(a["name"]), tuple(map(str, a["values"]))) for a in described))

    async def check_values(
        self,
        settings: PipelineSettings,
        check: Callable[[PipelineSettings, list[PromptSpec]], Awaitable[None]],
    ) -> None:
        """Each axis value alone, in range and known to the nodes (`check` asks them), or an
        error naming the axis and value."""
        if "denoising" in self.axes_named() and not (
            settings.enabled("img2img") or settings.txt2img.hires
        ):
            raise InputError(
                "--axis denoising: the run has no img2img stage and no hires fix to denoise "
                "(add --stages txt2img,img2img)"
            )
        for axis in self.axes:
            for value in axis.values:
                weights = {"txt2img": {axis.name: value}} if axis.name in WEIGHT_AXES else {}
                try:
                    changed = merge_settings(
                        ("run", settings_as_table(settings)),
                        ("cell", cell_table({axis.name: value})),
                        ("cell", weights),
                    )
                    await check(changed, [])
                except InputError as error:
                    raise InputError(f"--axis {axis.name}={value}: {error.message}") from None

    def axes_named(self) -> set[str]:
        return {axis.name for axis in self.axes}


def _run_rank(name: str) -> int:
    return WEIGHT_AXES.index(name) if name in WEIGHT_AXES else len(WEIGHT_AXES)


def _reason(name: str, error: ValueError) -> str:
    if name == "size":
        return "expected WIDTHxHEIGHT, e.g. 512x768"
    if isinstance(error, _OutOfRange):
        return str(error)
    return "expected a number" if name in ("cfg", "denoising") else "expected a whole number"


def cell_table(cell: Mapping[str, str]) -> dict[str, Any]:
    """The settings a cell changes, as a partial table."""
    table: dict[str, Any] = {}
    for name, value in cell.items():
        for stage, values in (_AXES[name](value) or {}).items():
            table.setdefault(stage, {}).update(values)
    return table


def cell_settings(settings: PipelineSettings, cell: Mapping[str, str] | None) -> PipelineSettings:
    """The settings one job is made with: the run's, changed as its cell says."""
    table = cell_table(cell or {})
    if not table:
        return settings
    return merge_settings(("run", settings_as_table(settings)), ("comparison cell", table))


def plan_grid(
    job_prompts: list[tuple[int, PromptSpec]],
    settings: PipelineSettings,
    grid: ComparisonGrid,
    base_seed: int,
) -> PlannedImages:
    """One job per cell, from the run's one drawn prompt."""
    if len(job_prompts) != 1:
        raise InputError(f"a comparison makes one prompt, not {len(job_prompts)}")
    axes = grid.axes_named()
    several = [
        key for key, listed, axis in (
            ("txt2img.model", settings.txt2img.models, "model"),
            ("txt2img.vae", settings.txt2img.vaes, "vae"),
        ) if len(listed) > 1 and axis not in axes
    ]  # fmt: skip
    if several or settings.variants.hypernetworks:
        key = several[0] if several else "variants.hypernetworks"
        raise InputError(
            f"{key}: the settings list several; a comparison varies only its axes "
            "(name one, or make it an axis: --axis model=A,B)"
        )
    prompt_index, spec = job_prompts[0]
    planned: list[tuple[int, PromptSpec]] = []
    numbers: list[int] = []
    for cell in grid.cells():
        update: dict[str, Any] = {"cell": cell}
        update.update({name: cell[name] for name in WEIGHT_AXES if name in cell})
        planned.append((prompt_index, spec.model_copy(update=update)))
        # A job's seed is the base seed plus its image number: the number that gives the
        # cell's own seed, else the same one for every cell.
        numbers.append((int(cell["seed"]) - base_seed) % (MAX_SEED + 1) if "seed" in cell else 0)
    return PlannedImages(planned, numbers)
