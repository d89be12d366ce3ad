"""The pairwise-pick rankings of `stablenew learn report`, as text lines and as JSON."""

from __future__ import annotations

import json
from typing import Any

from stablenew_tui.learning.bradley_terry import Strength
from stablenew_tui.learning.pick_report import ENOUGH_PICKS, GridRanking, PickRankings

WIDTH = 80
ITEM_WIDTH = 36


def pick_lines(rankings: PickRankings) -> list[str]:
    lines = [f"note: {problem}" for problem in rankings.problems]
    if rankings.waiting:
        lines += [
            "",
            f"{rankings.waiting} comparison grid(s) picked from, not yet enough to rank "
            f"(at least {ENOUGH_PICKS} picks, one per image)",
        ]
    for grid in rankings.grids:
        lines += ["", *_grid_lines(grid)]
    return lines


def _grid_lines(grid: GridRanking) -> list[str]:
    title = json.dumps(grid.template, ensure_ascii=False) if grid.template else grid.run_id
    lines = [
        _clip(f"comparison {title}: {grid.picks} picks", WIDTH),
        f"  {'image (cell)':<{ITEM_WIDTH}} {'strength':>8}  {'80% range':<13} {'won':>7}",
        *_strength_lines(grid.cells),
    ]
    for axis in grid.axes:
        lines += [f"  by {axis.axis}:", *_strength_lines(axis.values)]
    return lines


def _strength_lines(strengths: list[Strength]) -> list[str]:
    return [
        f"  {_clip(str(s.item), ITEM_WIDTH):<{ITEM_WIDTH}} {s.strength:>+8.2f}  "
        f"{s.low:+.2f}…{s.high:+.2f}  {s.wins:>3}/{s.picks}"
        for s in strengths
    ]


def _clip(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def picks_as_json(rankings: PickRankings) -> dict[str, Any]:
    return {
        "comparisons": [
            {
                "run_id": grid.run_id,
                "template": grid.template,
                "picks": grid.picks,
                "cells": [_strength_json(s) for s in grid.cells],
                "axes": [
                    {"axis": axis.axis, "values": [_strength_json(s) for s in axis.values]}
                    for axis in grid.axes
                ],
            }
            for grid in rankings.grids
        ],
        "comparisons_waiting": rankings.waiting,
        "pick_problems": list(rankings.problems),
    }


def _strength_json(strength: Strength) -> dict[str, Any]:
    return {
        "item": strength.item,
        "strength": strength.strength,
        "interval_80": [strength.low, strength.high],
        "wins": strength.wins,
        "picks": strength.picks,
    }
