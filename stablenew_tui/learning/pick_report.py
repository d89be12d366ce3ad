"""Pairwise picks in the learning report: a Bradley–Terry ranking per comparison grid, of its
images and of each axis's values.

A grid joins the report once it has `ENOUGH_PICKS` picks or more, and at least one per image
picked from (fewer could not rank them all). An axis's values are ranked from the picks
between images that differ on that axis: each such pick counts as a win of the preferred
image's value over the other's. The other axes may differ too, so with few picks one axis's
ranking can borrow from another's; the interval says how sure it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stablenew_tui.learning.bradley_terry import Strength, fit
from stablenew_tui.learning.picks import PICKS_NAME, Pick, PickStore

ENOUGH_PICKS = 5


@dataclass(frozen=True)
class AxisRanking:
    axis: str
    values: list[Strength]  # items are the axis's values; strongest first


@dataclass(frozen=True)
class GridRanking:
    run_id: str
    template: str | None
    picks: int
    cells: list[Strength]  # items are cell labels ("cfg=5 · sampler=Euler a"); strongest first
    axes: list[AxisRanking]


@dataclass(frozen=True)
class PickRankings:
    grids: list[GridRanking]
    waiting: int = 0  # grids with picks, not yet enough of them
    problems: tuple[str, ...] = ()


def load_pick_rankings(
    data_dir: Path, *, since: float | None = None, template: str | None = None
) -> PickRankings:
    """Nothing to read, nothing to fit, when no pick was ever made."""
    path = data_dir / PICKS_NAME
    if not path.exists():
        return PickRankings([])
    store = PickStore(path)
    problems: tuple[str, ...] = ()
    if store.skipped_lines:
        lines = ", ".join(map(str, store.skipped_lines))
        problems = (f"{path}: skipped unreadable pick line(s) {lines}",)
    picks = [
        pick for pick in store.picks
        if (since is None or pick.time >= since) and (template is None or pick.template == template)
    ]  # fmt: skip
    rankings = rank_grids(picks)
    return PickRankings(rankings.grids, rankings.waiting, problems)


def rank_grids(picks: list[Pick]) -> PickRankings:
    by_run: dict[str, list[Pick]] = {}
    for pick in picks:
        by_run.setdefault(pick.run_id, []).append(pick)
    grids, waiting = [], 0
    for run_id, run_picks in by_run.items():
        images = {image.path for pick in run_picks for image in (pick.preferred, pick.other)}
        if len(run_picks) < max(ENOUGH_PICKS, len(images)):
            waiting += 1
            continue
        grids.append(_rank_grid(run_id, run_picks))
    grids.sort(key=lambda grid: -max(pick.time for pick in by_run[grid.run_id]))
    return PickRankings(grids, waiting)


def cell_label(cell: dict[str, str]) -> str:
    return " · ".join(f"{axis}={value}" for axis, value in cell.items())


def _rank_grid(run_id: str, picks: list[Pick]) -> GridRanking:
    latest = picks[-1]
    labels = {cell_label(image.cell) for pick in picks for image in (pick.preferred, pick.other)}
    cells = fit(
        sorted(labels), [(cell_label(p.preferred.cell), cell_label(p.other.cell)) for p in picks]
    )
    axes = []
    for axis in (str(described["name"]) for described in latest.axes):
        contests = [
            (pick.preferred.cell[axis], pick.other.cell[axis])
            for pick in picks
            if axis in pick.preferred.cell
            and axis in pick.other.cell
            and pick.preferred.cell[axis] != pick.other.cell[axis]
        ]
        values = sorted({value for contest in contests for value in contest})
        if len(values) > 1:
            axes.append(AxisRanking(axis, fit(values, contests)))
    return GridRanking(run_id, latest.template, len(picks), cells, axes)
