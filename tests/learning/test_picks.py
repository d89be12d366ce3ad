"""Pairwise picks: the durable file, which pair comes next, and the rankings in the report."""

from __future__ import annotations

import json
import random

from stablenew_tui.cli import main
from stablenew_tui.learning.bradley_terry import preferred_probability
from stablenew_tui.learning.pick_report import ENOUGH_PICKS, cell_label, rank_grids
from stablenew_tui.learning.picks import PICKS_NAME, Pick, PickedImage, PickStore, next_pair
from stablenew_tui.paths import AppPaths

AXES = [{"name": "cfg", "values": ["5", "7"]}, {"name": "sampler", "values": ["A", "B", "C"]}]
CELLS = [{"cfg": cfg, "sampler": sampler} for cfg in ("5", "7") for sampler in ("A", "B", "C")]
# What a user prefers: sampler C over B over A, and cfg 7 a little over 5.
TRUE = {"5": 0.0, "7": 0.5, "A": -1.0, "B": 0.0, "C": 1.0}


def image(cell: dict[str, str], run: str = "run1") -> PickedImage:
    return PickedImage(f"/out/{run}/{cell_label(cell)}.png", f"{run}-{cell_label(cell)}", cell)


def pick(preferred, other, run: str = "run1", when: float = 1.0) -> Pick:
    return Pick(run, image(preferred, run), image(other, run), AXES, "a {fox|hare}", when)


def simulated(count: int, rng: random.Random, run: str = "run1") -> list[Pick]:
    picks = []
    for _ in range(count):
        a, b = rng.sample(CELLS, 2)
        strength = {id(c): TRUE[c["cfg"]] + TRUE[c["sampler"]] for c in (a, b)}
        won = rng.random() < preferred_probability(strength[id(a)], strength[id(b)])
        picks.append(pick(a, b, run) if won else pick(b, a, run))
    return picks


def test_picks_are_kept_line_by_line_and_a_torn_line_is_reported(tmp_path):
    path = tmp_path / PICKS_NAME
    store = PickStore(path)
    first = pick(CELLS[0], CELLS[1])
    store.record(first)
    with path.open("a") as handle:
        handle.write('{"run_id": "run1", "preferred": {"path"\n')  # a torn line
    store.record(pick(CELLS[2], CELLS[0]))
    again = PickStore(path)
    assert again.picks == [first, pick(CELLS[2], CELLS[0])]
    assert again.skipped_lines == [2]
    assert again.of_run("run1") == again.picks and again.of_run("other") == []
    line = json.loads(path.read_text().splitlines()[0])
    assert line["preferred"] == {"path": first.preferred.path, "job_id": first.preferred.job_id,
                                 "cell": {"cfg": "5", "sampler": "A"}}  # fmt: skip


def test_the_next_pair_is_the_least_compared_image_with_its_closest_rival():
    paths = [image(cell).path for cell in CELLS[:4]]
    assert next_pair(paths[:1], [], {}) is None
    assert next_pair(paths, [], {}) == (paths[0], paths[1])
    done = [pick(CELLS[0], CELLS[1])]
    # Images 2 and 3 have never been picked from: they come next.
    assert next_pair(paths, done, {}) == (paths[2], paths[3])
    # Among equals, the closest in strength: 2 meets 0 (0.1 apart) before 3 (2.0 apart).
    done.append(pick(CELLS[2], CELLS[3]))
    strengths = {paths[0]: 0.2, paths[1]: -1.5, paths[2]: 0.3, paths[3]: 2.3}
    assert set(next_pair(paths, done, strengths) or ()) == {paths[0], paths[2]}
    # A skipped pair waits until nothing else is left.
    skipped = [frozenset((paths[0], paths[2]))]
    assert set(next_pair(paths, done, strengths, skipped) or ()) != {paths[0], paths[2]}
    assert next_pair(paths[:2], done, {}, [frozenset(paths[:2])]) == (paths[0], paths[1])


def test_rankings_recover_the_users_preferences_for_cells_and_axis_values():
    rankings = rank_grids(simulated(600, random.Random(5)))
    (grid,) = rankings.grids
    assert grid.picks == 600 and grid.template == "a {fox|hare}"
    assert grid.cells[0].item == "cfg=7 · sampler=C"
    assert grid.cells[-1].item == "cfg=5 · sampler=A"
    by_axis = {axis.axis: [s.item for s in axis.values] for axis in grid.axes}
    assert by_axis == {"cfg": ["7", "5"], "sampler": ["C", "B", "A"]}
    top, bottom = grid.cells[0], grid.cells[-1]
    assert bottom.high < top.low  # clearly apart after 600 picks


def test_a_grid_waits_for_enough_picks():
    few = simulated(ENOUGH_PICKS - 1, random.Random(1))
    assert rank_grids(few).grids == [] and rank_grids(few).waiting == 1
    # Five picks that touch six images are still too few: one per image at least.
    spread = [pick(CELLS[0], CELLS[1]), pick(CELLS[2], CELLS[3]), pick(CELLS[4], CELLS[5]),
              pick(CELLS[0], CELLS[2]), pick(CELLS[1], CELLS[3])]  # fmt: skip
    assert rank_grids(spread).waiting == 1
    assert len(rank_grids([*spread, pick(CELLS[4], CELLS[0])]).grids) == 1


def test_learn_report_shows_the_ranking_in_text_and_json(capsys):
    data_dir = AppPaths.from_environment().data_dir
    assert main(["learn", "report"]) == 0
    assert "comparison" not in capsys.readouterr().out
    assert not (data_dir / PICKS_NAME).exists()
    store = PickStore(data_dir / PICKS_NAME)
    for made in [*simulated(40, random.Random(2)), *simulated(2, random.Random(3), "run2")]:
        store.record(made)
    assert main(["learn", "report"]) == 0
    out = capsys.readouterr().out
    assert 'comparison "a {fox|hare}": 40 picks' in out
    assert "1 comparison grid(s) picked from, not yet enough to rank" in out
    assert "  by sampler:" in out
    assert main(["learn", "report", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (grid,) = report["comparisons"]
    assert grid["run_id"] == "run1" and grid["picks"] == 40
    assert report["comparisons_waiting"] == 1
    low, high = grid["cells"][0]["interval_80"]
    assert low < grid["cells"][0]["strength"] < high
    assert main(["learn", "report", "--json", "--template", "other"]) == 0
    assert json.loads(capsys.readouterr().out)["comparisons"] == []
