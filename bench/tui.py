"""TUI responsiveness: how long until the demo is usable, and how fast keys show on screen
while a batch streams in.

(a) Start-up, in a real terminal: `stablenew --demo` in tmux (100×30), polling `capture-pane`
    every 20 ms, from `tmux new-session` to the first frame and to the first frame showing the
    node READY; median of 5 runs (after one uncounted warm-up), each with a fresh
    STABLENEW_HOME. Baseline from the same run: a minimal Textual app (one Static) launched the
    same way, to its first frame.
(b) Keypress → frame, in process with Pilot (120×40) and an instant simulator in the same loop,
    the app started warm from a last_run.toml with images_per_prompt=200. Each sample posts one
    key event and times until the first frame the app hands to the terminal that shows its
    effect: F4/F2 tab switches, then `x`/backspace typed into the template (half as many);
    10-30 ms between samples. "batch": while a 200-image run streams (a new one is queued
    when it ends); "idle": a second app, after the same 200 images have finished. Also
    printed: the full (gen 2) garbage collections that ran during the samples, and how many
    objects stay alive per tab switch.
    Framework floor: a minimal app with Textual's stock widgets for the same two tabs
    (TabbedContent, a 200-row DataTable, a 600-line RichLog, a TextArea, a Footer), same keys.
(c) Keypress → terminal, in tmux: the real command against an instant simulator in its own
    process; `send-keys F4`/`F2`, then `capture-pane` as fast as it goes until the tab shows.
    This includes tmux itself (a process spawn per send and per capture, a few ms each). The
    batch streams as fast as the app takes images (~80 a second), then at 10 a second.
    Baselines: the same with no batch running, and the minimal tabs app.
(d) Opening an image, in process with Pilot (120×40): Enter on a result until its details
    show, `v` until its full-screen preview shows the decoded image; after a 200-image batch
    ("idle") and while another streams ("batch"). See tui_images.py.

    .venv/bin/python bench/tui.py [--parts abcd] [--repeats 5] [--samples 100]
                                  [--tmux-samples 100] [--image-samples 50]
"""

from __future__ import annotations

# First, as the app does: Textual reads these settings when it is first imported.
import stablenew_tui.tui.textual_env  # noqa: F401

# isort: split
import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from tui_common import BATCH, TARGET_P95_MS, TARGET_READY_S, p95, verdict
from tui_images import TARGET_OPEN_P95_MS, ImageViewsCase, bench_image_views
from tui_pilot import bench_pilot_keys
from tui_startup import bench_startup
from tui_terminal import PACED_IMAGES_PER_S, bench_tmux_keys


def latency_rows(title: str, cases: dict[str, list[float]]) -> list[str]:
    """`cases`: floor (minimal app), idle, batch and perhaps paced (a batch at a GPU's pace);
    the batch rows carry the verdict."""
    names = {"floor": "minimal Textual app", "idle": "idle", "batch": "batch streaming",
             "paced": f"batch, {PACED_IMAGES_PER_S} images/s"}  # fmt: skip
    rows = [f"  {title}"]
    for key in (key for key in names if key in cases):
        values = cases[key]
        line = (f"    {names[key]:<24} {len(values):>4} {statistics.median(values):>7.1f}"
                f" {p95(values):>7.1f}")  # fmt: skip
        if key in ("batch", "paced"):
            ok = p95(values) <= TARGET_P95_MS
            line += f"   {p95(values) / p95(cases['idle']):>5.2f}   {verdict(ok)}"
        rows.append(line)
    return rows


def report_startup(repeats: int, startup: dict) -> None:
    base = statistics.median(startup["minimal"])
    print(f"(a) start-up in tmux 100×30, median of {repeats}"
          "   seconds   min-max    × minimal")  # fmt: skip
    for label, key in (("minimal Textual app, first frame", "minimal"),
                       ("stablenew --demo, first frame", "first"),
                       ("stablenew --demo, node READY", "ready")):  # fmt: skip
        values = startup[key]
        median = statistics.median(values)
        line = (f"  {label:<38} {median:>6.2f}  {min(values):.2f}-{max(values):.2f}"
                f"  {median / base:>7.2f}")  # fmt: skip
        if key == "ready":
            line += f"   target ≤ {TARGET_READY_S:g} s: {verdict(median <= TARGET_READY_S)}"
        print(line)


def report_pilot(pilot: dict) -> None:
    batch = pilot["batch"]
    print(f"(b) in process, Pilot 120×40; batch: {batch.images} images in {batch.seconds:.1f} s"
          f" of sampling ({batch.runs} run(s) of {BATCH})")  # fmt: skip
    for kind, title in (("tabs", "tab switch F4/F2"), ("typing", "typing x/backspace")):
        cases = {name: getattr(case, kind) for name, case in pilot.items()}
        print("\n".join(latency_rows(title, cases)))
    print("  full (gen 2) garbage collections during the samples; objects left alive per tab")
    print("  switch (after a full collection; not shown for the batch, which adds results)")
    for name in ("floor", "idle", "batch"):
        case = pilot[name]
        pauses = case.full_gcs
        line = f"    {name:<6} {len(pauses):>3} full GCs"
        if pauses:
            line += f", median {statistics.median(pauses):.0f} ms, longest {max(pauses):.0f} ms"
        if name != "batch":
            line += f"; {case.objects_per_switch:,.0f} objects kept per switch"
        print(line)


def report_terminal(terminal: dict) -> None:
    print(f"(c) real terminal, tmux 100×30, simulator in its own process"
          f" ({terminal['runs']} run(s) of {BATCH} from it at instant speed, then paced to"
          f" {PACED_IMAGES_PER_S} images/s)")  # fmt: skip
    cases = {key: terminal[key] for key in ("floor", "idle", "batch", "paced")}
    print("\n".join(latency_rows("tab switch F4/F2, send-keys → capture-pane", cases)))


def report_image_views(cases: dict[str, ImageViewsCase]) -> None:
    print(f"(d) opening an image, Pilot 120×40, ms   n     p50     p95"
          f"   target p95 ≤ {TARGET_OPEN_P95_MS:g} ms")  # fmt: skip
    for view, title in (("details", "details view (Enter)"), ("preview", "full screen (v)")):
        print(f"  {title}")
        for name in ("idle", "batch"):
            values = getattr(cases[name], view)
            ok = p95(values) <= TARGET_OPEN_P95_MS
            print(f"    {name:<24} {len(values):>4} {statistics.median(values):>7.1f}"
                  f" {p95(values):>7.1f}   {verdict(ok)}")  # fmt: skip
    print("  garbage collections while sampling: full (gen 2), CPU time in brackets; young")
    for name, case in cases.items():
        print(f"    {name:<6} {_collections(case.full_gcs, case.full_gcs_cpu)} full,"
              f" {_collections(case.young_gcs)} young (gen 0/1)")  # fmt: skip


def _collections(pauses: list[float], cpu: list[float] | None = None) -> str:
    """How many, their median and longest (ms): `n, median 12 (11) ms, longest 30 (28) ms`."""
    if not pauses:
        return "0"
    median, longest = f"{statistics.median(pauses):.0f}", f"{max(pauses):.0f}"
    if cpu:
        median, longest = f"{median} ({statistics.median(cpu):.0f})", f"{longest} ({max(cpu):.0f})"
    return f"{len(pauses)}, median {median} ms, longest {longest} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="start-ups to time (median)")
    parser.add_argument("--samples", type=int, default=100, help="Pilot samples per case")
    parser.add_argument("--tmux-samples", type=int, default=100, help="tmux samples per case")
    parser.add_argument(
        "--image-samples", type=int, default=50, help="openings of each image view per case"
    )
    parser.add_argument("--parts", default="abcd", help="which parts to run, e.g. `b` or `ad`")
    args = parser.parse_args()
    if shutil.which("tmux") is None and set(args.parts) & set("ac"):
        raise SystemExit("tmux is not installed")
    began = time.perf_counter()
    spent = {}
    with tempfile.TemporaryDirectory(prefix="stablenew-bench-") as tmp:
        scratch = Path(tmp)
        if "a" in args.parts:
            startup = bench_startup(args.repeats, scratch)
            spent["a"] = time.perf_counter() - began
            report_startup(args.repeats, startup)
        if set(args.parts) & set("bc"):
            print(f"\nkeypress → screen, ms               n     p50     p95   ÷ idle"
                  f"   target p95 ≤ {TARGET_P95_MS:g} ms")  # fmt: skip
        if "b" in args.parts:
            part_began = time.perf_counter()
            pilot = asyncio.run(bench_pilot_keys(args.samples, scratch))
            spent["b"] = time.perf_counter() - part_began
            report_pilot(pilot)
        if "c" in args.parts:
            part_began = time.perf_counter()
            terminal = bench_tmux_keys(args.tmux_samples, scratch)
            spent["c"] = time.perf_counter() - part_began
            report_terminal(terminal)
        if "d" in args.parts:
            print(f"\n(load average {os.getloadavg()[0]:.1f})")
            part_began = time.perf_counter()
            views = asyncio.run(bench_image_views(args.image_samples, scratch))
            spent["d"] = time.perf_counter() - part_began
            report_image_views(views)
    parts = ", ".join(f"{part} {seconds:.0f} s" for part, seconds in spent.items())
    print(f"\ntotal {time.perf_counter() - began:.0f} s ({parts})")


if __name__ == "__main__":
    main()
