"""Comparison grids made from an interactive session: the request the grid dialog asks for,
the node's names it offers as each axis's values, and the contact sheets drawn when a
comparison run ends.

The request is checked exactly as `stablenew compare` checks its flags (`ComparisonGrid.parse`,
then the launcher against the nodes when the run is planned); only the words of the flags
(`--axis`) become the dialog's (`axis`). The sheets are drawn as the CLI draws them
(`contact_sheet.run_sheets`), for every comparison run this session ends: one made from the
dialog, and one resumed or whose failed cells were queued again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.compare_grid import GRID_SOURCE, ComparisonGrid
from stablenew_tui.pipeline.contact_sheet import run_sheets
from stablenew_tui.pipeline.events import EventStream, RunFinished
from stablenew_tui.pipeline.jobs import MAX_SEED, Run
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.webui.resources import ResourceCatalog

# The axes whose values are names the node lists, and the catalog list that has them.
CATALOG_AXES = {"model": "models", "vae": "vaes", "sampler": "samplers", "scheduler": "schedulers"}


def axis_choices(catalog: ResourceCatalog | None) -> dict[str, list[str]]:
    """What the node offers for each axis that takes its names."""
    if catalog is None:
        return {}
    lists = catalog.sections()
    choices = {axis: list(lists[listed]) for axis, listed in CATALOG_AXES.items()}
    if not catalog.schedulers_supported:
        del choices["scheduler"]
    return {axis: names for axis, names in choices.items() if names}


def complete_listed(text: str, choices: Sequence[str]) -> str | None:
    """`text` with its last comma-separated value completed to the first of `choices` it
    begins (in any case) and that the list does not hold yet; None when none fits."""
    head, _, last = text.rpartition(",")
    typed = last.lstrip()
    if not typed:
        return None
    listed = {value.strip() for value in head.split(",")}
    fitting = (
        choice for choice in choices
        if choice.casefold().startswith(typed.casefold()) and choice not in (typed, *listed)
    )  # fmt: skip
    choice = next(fitting, None)
    return None if choice is None else text[: len(text) - len(typed)] + choice


def parse_axes(axes: Sequence[tuple[str, str]]) -> ComparisonGrid:
    """The grid from (axis name, comma list) pairs; pairs without a name are no axis."""
    texts = [f"{name}={values}" for name, values in axes if name]
    if not texts:
        raise InputError("choose an axis and give its values, e.g. cfg = 5, 7")
    try:
        return ComparisonGrid.parse(texts)
    except InputError as error:
        raise InputError(in_dialog_words(error.message)) from None


def in_dialog_words(message: str) -> str:
    """A comparison's error as the dialog says it: its fields are not flags."""
    return message.replace("--axis", "axis")


def parse_seed(text: str) -> int | None:
    """The seed of every cell; None (empty) for a random one."""
    text = text.strip()
    if not text or text == "-1":
        return None
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed: a whole number 0 to {MAX_SEED}, or empty for a random one")
    return seed


def comparison_flags(flags: dict[str, Any], seed: int | None) -> dict[str, Any]:
    """The stage cards' changes as a comparison takes them: one image per cell (as the CLI
    fixes it) and the dialog's seed (-1: the run draws one)."""
    txt2img = {**flags.get("txt2img", {}), "seed": -1 if seed is None else seed}
    return {**flags, "images_per_prompt": 1, "txt2img": txt2img}


@dataclass(frozen=True)
class DrawnSheets:
    run: Run
    sheets: list[Path]
    missing: int  # cells without an image: failed, or not made before the run stopped
    problem: str = ""  # why no sheet was written


async def draw_sheets_as_runs_end(
    events: EventStream, queue: JobQueue, report: Callable[[DrawnSheets], None]
) -> None:
    """Draw each comparison run's sheets when it ends, until cancelled. A run another process
    took over is left to it: that process draws them when it ends."""
    finished = events.subscribe_queue()
    while (event := await finished.get()) is not None:
        if not isinstance(event, RunFinished) or event.taken_over_by:
            continue
        run = queue.run(event.run_id)
        if run is None or not run.source.get(GRID_SOURCE):
            continue
        jobs = queue.jobs(run.id)
        missing = sum(job.status != "done" for job in jobs)
        try:
            sheets = await asyncio.to_thread(run_sheets, run, jobs)
        except OSError as error:
            report(DrawnSheets(run, [], missing, f"the contact sheet was not written: {error}"))
            continue
        report(DrawnSheets(run, sheets, missing))
