"""The cluster benchmark's printout: the table of runs, which targets our engine meets in each
case, and what went wrong along the way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cluster imports this module
    from cluster import Measured, Scale

TARGET_RATIO = 1.05
TARGET_EXIT_SECONDS = 5.0
COLUMNS = (  # (title, width); the first two left-aligned
    ("case", 34), ("policy", 12), ("makespan", 9), ("bound", 8), ("÷bound", 7), ("÷nominal", 9),
    ("÷rr", 6), ("÷static", 8), ("loads", 6), ("images", 10), ("lost", 5), ("dup", 4),
    ("exit", 8),
)  # fmt: skip


def print_report(
    scale: Scale,
    speeds: dict[str, float],
    timed: dict[str, list[float]],
    best: tuple[float, float],
    results: Sequence[Measured],
) -> None:
    """`timed`: the speed benchmark's images per node; `best`: the best whole-image split of
    one model at the fastest of them, and the undisturbed bound at those speeds."""
    nodes = ", ".join(f"{name} {speed:g}" for name, speed in speeds.items())
    print(f"\n3 simulated nodes ({nodes}), each in its own process")
    print(
        f"  {scale.images} images a case, {scale.width}x{scale.height} at {scale.steps} steps: "
        f"{scale.image_seconds:.3f} s an image at speed 1; a checkpoint load "
        f"{scale.load_seconds:.2f} s at speed 1"
    )
    measured = ", ".join(
        f"{name} {sum(times) / len(times):.3f}/{min(times):.3f} s "
        f"(×{min(times) * speeds[name] / scale.image_seconds:.2f} nominal)"
        for name, times in timed.items()
    )
    print(f"  speed benchmark, s an image, mean/fastest of {len(next(iter(timed.values())))}: "
          f"{measured}")  # fmt: skip
    print(
        f"  best whole-image split of one model at the fastest, one load on each node: "
        f"{best[0]:.2f} s = {best[0] / best[1]:.2f} × bound"
    )
    print()
    print(table(results, list(speeds)))
    print()
    print("bound: at each node's fastest benchmarked image; ÷nominal: makespan ÷ the bound at")
    print("the set speeds (sampling alone); ÷rr, ÷static: makespan ÷ the baseline's; a run that")
    print("lost images made fewer")
    print()
    print(targets(results, len(speeds)))
    notes = [f"  ({r.case.key}) {r.policy}: {note}" for r in results for note in r.notes]
    if notes:
        print("notes")
        print("\n".join(notes))


def table(results: Sequence[Measured], nodes: list[str]) -> str:
    header = [title for title, _ in COLUMNS]
    header[COLUMNS.index(("images", 10))] = "/".join(name[0] for name in nodes)
    rows = [header]
    by_case: dict[str, dict[str, Measured]] = {}
    for result in results:
        by_case.setdefault(result.case.key, {})[result.policy] = result
    for key, runs in by_case.items():
        for number, (policy, result) in enumerate(runs.items()):
            case = f"({key}) {result.case.title}" if number == 0 else ""
            rows.append([
                case, policy, f"{result.makespan:.2f} s", f"{result.bound:.2f} s",
                f"{result.makespan / result.bound:.2f}",
                f"{result.makespan / result.nominal_bound:.2f}",
                ratio(result, runs.get("round-robin")), ratio(result, runs.get("static")),
                str(result.loads), "/".join(str(result.images.per_node[n]) for n in nodes),
                str(result.images.lost), str(result.images.duplicated),
                "-" if result.exit_after is None else f"{result.exit_after:.2f} s",
            ])  # fmt: skip
    return "\n".join(line(row) for row in rows)


def line(cells: list[str]) -> str:
    parts = [
        cell.ljust(width) if index < 2 else cell.rjust(width)
        for index, (cell, (_, width)) in enumerate(zip(cells, COLUMNS, strict=True))
    ]
    return " ".join(parts).rstrip()


def ratio(result: Measured, baseline: Measured | None) -> str:
    if baseline is None or baseline is result:
        return "-"
    return f"{result.makespan / baseline.makespan:.2f}"


def targets(results: Sequence[Measured], nodes: int) -> str:
    lines = [
        f"our engine's targets: makespan ≤ {TARGET_RATIO} × bound, loads ≤ nodes + models, "
        f"0 lost, 0 duplicated, exit ≤ {TARGET_EXIT_SECONDS:g} s after the last image, "
        "faster than both baselines"
    ]
    for result in results:
        if result.policy != "engine":
            continue
        others = [r for r in results if r.case is result.case and r.policy != "engine"]
        missed = missed_targets(result, others, nodes)
        verdict = "PASS" if not missed else "MISS: " + ", ".join(missed)
        lines.append(f"  ({result.case.key}) {verdict}")
    return "\n".join(lines)


def missed_targets(result: Measured, baselines: list[Measured], nodes: int) -> list[str]:
    missed = []
    if result.makespan > TARGET_RATIO * result.bound:
        missed.append(f"makespan {result.makespan / result.bound:.2f} × bound")
    if result.loads > nodes + len(result.case.models):
        missed.append(f"{result.loads} loads")
    if result.images.lost:
        missed.append(f"{result.images.lost} lost")
    if result.images.duplicated:
        missed.append(f"{result.images.duplicated} duplicated")
    if result.exit_after is None or result.exit_after > TARGET_EXIT_SECONDS:
        exit_after = "no image" if result.exit_after is None else f"{result.exit_after:.1f} s"
        missed.append(f"exit {exit_after} after the last image")
    for baseline in baselines:
        if result.makespan >= baseline.makespan and not baseline.images.lost:
            missed.append(f"not faster than {baseline.policy}")
    return missed
