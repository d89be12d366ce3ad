"""TUI responsiveness: how long until the demo is usable, and how fast keys show on screen
while a batch streams in.

(a) Start-up, in a real terminal: `stablenew --demo` in tmux (100×30), polling `capture-pane`
    every 20 ms, from `tmux new-session` to the first frame and to the first frame showing the
    node READY; median of 5 runs (after one uncounted warm-up), each with a fresh
    STABLENEW_HOME. Baseline from the same run: a minimal Textual app (one Static) launched the
    same way, to its first frame.
(b) Keypress → frame, in process with Pilot (120×40) and an instant simulator in the same loop,
    the app started warm from a last_run.toml with images_per_prompt=200. Each sample posts one
    key event and times until the first frame the app paints that shows its effect: F4/F2 tab
    switches, then `x`/backspace typed into the template (half as many); 10-30 ms between
    samples. "batch":
    while a 200-image run streams (a new one is queued when it ends); "idle": a second app,
    after the same 200 images have finished. Also printed: the full (gen 2) garbage
    collections that ran during the samples, and how many objects stay alive per tab switch.
    Framework floor: a minimal Textual app with the same kind of tabs (TabbedContent, a
    200-row DataTable, a 600-line RichLog, a TextArea, a Footer), same keys.
(c) Keypress → terminal, in tmux: the real command against an instant simulator in its own
    process; `send-keys F4`/`F2`, then `capture-pane` as fast as it goes until the tab shows.
    This includes tmux itself (a process spawn per send and per capture, a few ms each).
    Baselines: the same with no batch running, and the minimal tabs app.

    .venv/bin/python bench/tui.py [--repeats 5] [--samples 100] [--tmux-samples 40]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual import events
from textual.app import App
from textual.widgets import TabbedContent, TextArea

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.lastrun import LAST_RUN_NAME, save_last_run
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.sim import SimServer
from stablenew_tui.tui.app import make_app
from stablenew_tui.tui.widgets.node_status import NodeStatusBar

PROMPT = "a lighthouse on a cliff at dusk, oil painting"
BATCH = 200
TARGET_READY_S = 1.5
TARGET_P95_MS = 50.0
POLL_S = 0.02
GIVE_UP_S = 30.0
MINIMAL_MARKER = "minimal baseline app"
MINIMAL_APP = f"""
from textual.app import App
from textual.widgets import Static


class Minimal(App):
    def compose(self):
        yield Static({MINIMAL_MARKER!r})


Minimal().run()
"""
# Text on screen only while that tab shows, in our app and in the minimal tabs app.
TAB_MARKERS = {"f4": "job log", "f2": "next prompt"}
TAB_IDS = {"f4": "queue", "f2": "prompt"}
MINIMAL_TABS_APP = """
from textual.app import App
from textual.binding import Binding
from textual.widgets import DataTable, Footer, RichLog, Static, TabbedContent, TabPane, TextArea


class MinimalTabs(App):
    CSS = "DataTable, RichLog { height: 1fr; }"
    BINDINGS = [
        Binding("f2", "show('prompt')", "Prompt"),
        Binding("f4", "show('queue')", "Queue"),
        *(Binding(f"ctrl+{key}", "bell", key) for key in "gor"),
    ]

    def compose(self):
        with TabbedContent(id="tabs"):
            with TabPane("Prompt", id="prompt"):
                yield TextArea("a lighthouse", id="template")
                yield Static("next prompt")
            with TabPane("Queue", id="queue"):
                yield DataTable()
                yield Static("job log")
                yield RichLog()
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("#", "status", "prompt")
        for index in range(200):
            table.add_row(str(index + 1), "done", "a lighthouse on a cliff at dusk")
        log = self.query_one(RichLog)
        for index in range(600):
            log.write(f"job {index + 1} done in 0.02 s")

    def action_show(self, tab):
        tabs = self.query_one(TabbedContent)
        tabs.active = tab
        focusable = [widget for widget in tabs.get_pane(tab).query("*") if widget.can_focus]
        if focusable:
            focusable[0].focus()


if __name__ == "__main__":
    MinimalTabs().run()
"""


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) > 1 else values[0]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def write_warm_start(home: Path, images: int) -> None:
    """A last run with the batch size and prompt, so the app starts ready to run it."""
    settings = PipelineSettings(images_per_prompt=images)
    save_last_run(home / "data" / LAST_RUN_NAME, settings, PROMPT, "")


# -- tmux ----------------------------------------------------------------------------------


class Tmux:
    """One tmux server on its own socket with one 100×30 session; removed on `kill`."""

    def __init__(self) -> None:
        self.name = f"stablenew-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.env = {key: value for key, value in os.environ.items() if key != "TMUX"}
        self.socket_path: str | None = None

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["tmux", "-L", self.name, *args],
            capture_output=True, text=True, env=self.env, timeout=10, check=False,
        )  # fmt: skip

    def start(self, command: list[str]) -> None:
        """Start `command`; its pane stays after it exits, so a traceback can be read."""
        self.run("new-session", "-d", "-s", self.name, "-x", "100", "-y", "30",
                 shlex.join(command), ";", "set-option", "remain-on-exit", "on")  # fmt: skip
        self.socket_path = self.run("display-message", "-p", "#{socket_path}").stdout.strip()

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name).stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.name, *keys)

    def alive(self) -> bool:
        """The command is still running."""
        return self.run("display-message", "-p", "-t", self.name, "#{pane_dead}").stdout == "0\n"

    def wait_for(self, found: Callable[[str], bool], poll: float = POLL_S) -> float:
        """Seconds until a capture satisfies `found`; raises after GIVE_UP_S or on exit."""
        started = time.perf_counter()
        while time.perf_counter() - started < GIVE_UP_S:
            if found(self.screen()):
                return time.perf_counter() - started
            if not self.alive():
                raise RuntimeError(f"the app exited; screen:\n{self.screen()}")
            if poll:
                time.sleep(poll)
        raise RuntimeError(f"gave up after {GIVE_UP_S:.0f} s; screen:\n{self.screen()}")

    def quit(self) -> None:
        """Ctrl+Q, a few seconds to exit, then the server and its socket file go."""
        self.keys("C-q")
        deadline = time.perf_counter() + 10
        while self.alive() and time.perf_counter() < deadline:
            time.sleep(0.05)
        self.run("kill-server")
        if self.socket_path:  # tmux 3.3 leaves the socket file behind
            Path(self.socket_path).unlink(missing_ok=True)


def launch_times(command: list[str], marker: str) -> tuple[float, float]:
    """(first frame, first frame showing `marker`), in seconds from `tmux new-session`."""
    tmux = Tmux()
    started = time.perf_counter()
    try:
        tmux.start(command)
        first = None
        while time.perf_counter() - started < GIVE_UP_S:
            screen = tmux.screen()
            now = time.perf_counter() - started
            if first is None and screen.strip():
                first = now
            if marker in screen:
                return first or now, now
            if not tmux.alive():
                raise RuntimeError(f"exited before showing {marker!r}:\n{tmux.screen()}")
            time.sleep(POLL_S)
        raise RuntimeError(f"no {marker!r} after {GIVE_UP_S:.0f} s:\n{tmux.screen()}")
    finally:
        tmux.quit()


def bench_startup(repeats: int, scratch: Path) -> dict[str, list[float]]:
    minimal = scratch / "minimal_app.py"
    minimal.write_text(MINIMAL_APP)
    times: dict[str, list[float]] = {"minimal": [], "first": [], "ready": []}
    for index in range(repeats + 1):  # the first round warms the disk cache, not counted
        home = scratch / f"startup-{index}"
        base, _ = launch_times([sys.executable, str(minimal)], MINIMAL_MARKER)
        app = ["env", f"STABLENEW_HOME={home}", sys.executable, "-m", "stablenew_tui", "--demo"]
        first, ready = launch_times(app, "demo READY")
        if index:
            times["minimal"].append(base)
            times["first"].append(first)
            times["ready"].append(ready)
    return times


def start_sim_process() -> tuple[subprocess.Popen, str]:
    sim = subprocess.Popen(
        [sys.executable, "-m", "stablenew_tui", "sim", "--instant", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = sim.stdout.readline() if sim.stdout else ""
    if " at " not in line:
        sim.terminate()
        raise RuntimeError(f"the simulator did not start: {line!r}")
    return sim, line.split(" at ", 1)[1].split()[0]


def tab_samples(tmux: Tmux, count: int, streaming: bool) -> tuple[list[float], int]:
    """Milliseconds from `send-keys` to a capture showing the tab. With `streaming`, only
    samples taken while a run is going count, and a new run is queued when one ends."""
    samples: list[float] = []
    runs = 0
    key = "f4"
    while len(samples) < count:
        if streaming and "finished:" in tmux.screen():
            tmux.keys("C-r")
            runs += 1
            tmux.wait_for(lambda s: "finished:" not in s)
        started = time.perf_counter()
        tmux.keys(key.upper())
        screen = ""
        while TAB_MARKERS[key] not in screen:
            screen = tmux.screen()
            if time.perf_counter() - started > GIVE_UP_S:
                raise RuntimeError(f"{key} did not show:\n{screen}")
        elapsed = (time.perf_counter() - started) * 1000
        if not streaming or "finished:" not in screen:
            samples.append(elapsed)
        key = "f2" if key == "f4" else "f4"
        time.sleep(random.uniform(0.02, 0.06))
    return samples, runs


def bench_tmux_keys(count: int, scratch: Path) -> dict:
    minimal = scratch / "minimal_tabs.py"
    minimal.write_text(MINIMAL_TABS_APP)
    tmux = Tmux()
    try:
        tmux.start([sys.executable, str(minimal)])
        tmux.wait_for(lambda s: "next prompt" in s)
        floor, _ = tab_samples(tmux, count, streaming=False)
    finally:
        tmux.quit()

    home = scratch / "tmux-keys"
    write_warm_start(home, BATCH)
    sim, url = start_sim_process()
    tmux = Tmux()
    try:
        app = ["env", f"STABLENEW_HOME={home}", sys.executable, "-m", "stablenew_tui",
               "--node", url]  # fmt: skip
        tmux.start(app)
        tmux.wait_for(lambda s: "READY" in s)
        idle, _ = tab_samples(tmux, count, streaming=False)
        tmux.keys("C-r")
        tmux.wait_for(lambda s: "txt2img on" in s, poll=0)
        loaded, runs = tab_samples(tmux, count, streaming=True)
        return {"floor": floor, "idle": idle, "batch": loaded, "runs": runs + 1}
    finally:
        tmux.quit()
        sim.terminate()
        sim.wait(10)


# -- Pilot, in process ---------------------------------------------------------------------


class FrameWatch:
    """Times from a posted key to the first painted frame where `shown()` holds."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.shown: Callable[[], bool] | None = None
        self.seen = asyncio.Event()
        app.post_display_hook = self._frame  # called after every frame, headless too

    def _frame(self) -> None:
        if self.shown is not None and self.shown():
            self.shown = None
            self.seen.set()

    async def press(self, key: str, shown: Callable[[], bool]) -> float:
        self.seen.clear()
        self.shown = shown
        started = time.perf_counter()
        self.app.post_message(events.Key(key, key if len(key) == 1 else None))
        await asyncio.wait_for(self.seen.wait(), GIVE_UP_S)
        return (time.perf_counter() - started) * 1000


class FullCollections:
    """Durations (ms) of the generation-2 garbage collections that run while `on`."""

    def __init__(self) -> None:
        self.on = False
        self.pauses: list[float] = []
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if not self.on or info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((time.perf_counter() - self._started) * 1000)

    def close(self) -> None:
        gc.callbacks.remove(self._callback)


def live_objects(gcs: FullCollections) -> int:
    """Objects still alive after a full collection (which is not counted as a pause)."""
    was_on, gcs.on = gcs.on, False
    gc.collect()
    gcs.on = was_on
    return len(gc.get_objects())


@dataclass
class PilotCase:
    tabs: list[float] = field(default_factory=list)
    typing: list[float] = field(default_factory=list)
    runs: int = 0
    images: int = 0
    seconds: float = 0.0
    full_gcs: list[float] = field(default_factory=list)
    objects_per_switch: float = 0.0


async def sample_keys(
    app: App,
    watch: FrameWatch,
    case: PilotCase,
    count: int,
    batch_going: Callable[[], bool] | None,
    gcs: FullCollections,
) -> None:
    """`count` tab switches, then `count // 2` keys typed; if `batch_going` is given, it must
    hold before and after a sample for the sample to count (a new run is queued first)."""
    tabs = app.screen.query_one(TabbedContent)
    area = app.screen.query_one("#template", TextArea)
    for kind in ("tabs", "typing"):
        samples: list[float] = getattr(case, kind)
        before = live_objects(gcs) if kind == "tabs" else 0
        step = 0
        while len(samples) < (count if kind == "tabs" else count // 2):
            if batch_going is not None and not batch_going():
                app.post_message(events.Key("ctrl+r", None))
                case.runs += 1
                while not batch_going():
                    await asyncio.sleep(0.005)
            if kind == "tabs":
                key = "f4" if step % 2 == 0 else "f2"
                pane = tabs.get_pane(TAB_IDS[key])

                def shown(tab=TAB_IDS[key], pane=pane) -> bool:
                    return tabs.active == tab and pane.region.area > 0

            else:
                key = "x" if step % 2 == 0 else "backspace"
                length = len(area.text) + (1 if key == "x" else -1)

                def shown(length=length) -> bool:
                    return len(area.text) == length

            going = batch_going is None or batch_going()
            elapsed = await watch.press(key, shown)
            if batch_going is None or (going and batch_going()):
                samples.append(elapsed)
            step += 1
            await asyncio.sleep(random.uniform(0.01, 0.03))
        if kind == "tabs":
            case.objects_per_switch = (live_objects(gcs) - before) / step


def images_made(sim: SimServer) -> int:
    return sum(entry.path.endswith("/txt2img") for entry in sim.requests)


async def pilot_case(scratch: Path, count: int, streaming: bool, gcs: FullCollections) -> PilotCase:
    home = scratch / f"pilot-{'batch' if streaming else 'idle'}"
    write_warm_start(home, BATCH)
    os.environ["STABLENEW_HOME"] = str(home)
    case = PilotCase()
    async with SimServer(speed=0) as sim:
        nodes = [NodeConfig(name="sim", url=sim.url)]
        app = make_app(AppConfig(), AppPaths.from_environment(), nodes)
        async with app.run_test(size=(120, 40)) as pilot:
            bar = app.screen.query_one(NodeStatusBar)
            while [status.state for status in bar.statuses.values()] != ["READY"]:
                await pilot.pause(0.02)
            watch = FrameWatch(app)
            await watch.press("f2", lambda: True)  # the keyboard in the template

            def batch_going() -> bool:
                return app.services.dispatcher.current is not None

            if not streaming:  # the same 200 images, finished before sampling
                app.post_message(events.Key("ctrl+r", None))
                while not batch_going():
                    await asyncio.sleep(0.005)
                while batch_going():
                    await pilot.pause(0.05)
            images, started = images_made(sim), time.perf_counter()
            gcs.pauses, gcs.on = [], True
            await sample_keys(app, watch, case, count, batch_going if streaming else None, gcs)
            gcs.on = False
            case.full_gcs = gcs.pauses
            case.seconds = time.perf_counter() - started
            case.images = images_made(sim) - images
            await app.services.launcher.engine.cancel_all()
    return case


async def minimal_tabs_case(scratch: Path, count: int, gcs: FullCollections) -> PilotCase:
    path = scratch / "minimal_tabs.py"
    path.write_text(MINIMAL_TABS_APP)
    spec = importlib.util.spec_from_file_location("minimal_tabs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    case = PilotCase()
    app = module.MinimalTabs()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        watch = FrameWatch(app)
        await watch.press("f2", lambda: True)
        gcs.pauses, gcs.on = [], True
        await sample_keys(app, watch, case, count, None, gcs)
        gcs.on = False
        case.full_gcs = gcs.pauses
    return case


async def bench_pilot_keys(count: int, scratch: Path) -> dict[str, PilotCase]:
    gcs = FullCollections()
    try:
        cases = {"floor": await minimal_tabs_case(scratch, count, gcs)}
        for name, streaming in (("batch", True), ("idle", False)):
            gc.collect()
            cases[name] = await pilot_case(scratch, count, streaming, gcs)
        return cases
    finally:
        gcs.close()


# -- report ----------------------------------------------------------------------------------


def latency_rows(title: str, cases: dict[str, list[float]]) -> list[str]:
    """`cases`: floor (minimal app), idle, batch; the batch row carries the verdict."""
    names = {"floor": "minimal Textual app", "idle": "idle", "batch": "batch streaming"}
    rows = [f"  {title}"]
    for key in ("floor", "idle", "batch"):
        values = cases[key]
        line = (f"    {names[key]:<24} {len(values):>4} {statistics.median(values):>7.1f}"
                f" {p95(values):>7.1f}")  # fmt: skip
        if key == "batch":
            ok = p95(values) <= TARGET_P95_MS
            line += f"   {p95(values) / p95(cases['idle']):>5.2f}   {verdict(ok)}"
        rows.append(line)
    return rows


def print_report(args: argparse.Namespace, startup: dict, pilot: dict, terminal: dict) -> None:
    base = statistics.median(startup["minimal"])
    print(f"(a) start-up in tmux 100×30, median of {args.repeats}"
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
    print()
    print(f"keypress → screen, ms               n     p50     p95   ÷ idle   target p95 ≤"
          f" {TARGET_P95_MS:g} ms")  # fmt: skip
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
    print(f"(c) real terminal, tmux 100×30, simulator in its own process"
          f" ({terminal['runs']} run(s) of {BATCH})")  # fmt: skip
    print("\n".join(latency_rows("tab switch F4/F2, send-keys → capture-pane", terminal)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="start-ups to time (median)")
    parser.add_argument("--samples", type=int, default=100, help="Pilot samples per case")
    parser.add_argument("--tmux-samples", type=int, default=40, help="tmux samples per case")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is not installed")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="stablenew-bench-") as tmp:
        scratch = Path(tmp)
        startup = bench_startup(args.repeats, scratch)
        parts = [time.perf_counter()]
        pilot = asyncio.run(bench_pilot_keys(args.samples, scratch))
        parts.append(time.perf_counter())
        terminal = bench_tmux_keys(args.tmux_samples, scratch)
        parts.append(time.perf_counter())
    print_report(args, startup, pilot, terminal)
    spent = [parts[0] - began, parts[1] - parts[0], parts[2] - parts[1]]
    print(
        f"\ntotal {time.perf_counter() - began:.0f} s"
        f" (a {spent[0]:.0f} s, b {spent[1]:.0f} s, c {spent[2]:.0f} s)"
    )


if __name__ == "__main__":
    main()
