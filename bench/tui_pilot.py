"""(b) Keypress → frame in process: Pilot, an instant simulator in the same event loop."""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual import events
from textual.app import App
from textual.widgets import TextArea
from tui_common import BATCH, GIVE_UP_S, MINIMAL_TABS_APP, TAB_IDS, write_warm_start

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.paths import AppPaths
from stablenew_tui.sim import SimServer
from stablenew_tui.tui.app import make_app
from stablenew_tui.tui.widgets.node_status import NodeStatusBar


class FrameWatch:
    """Times from a posted key to the first painted frame where `shown()` holds. The time is
    taken in the display hook, when the frame is handed to the terminal, not when the waiting
    coroutine next gets the loop."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.shown: Callable[[], bool] | None = None
        self.seen = asyncio.Event()
        self.painted_at = 0.0
        app.post_display_hook = self._frame  # called after every frame, headless too

    def _frame(self) -> None:
        if self.shown is not None and self.shown():
            self.painted_at = time.perf_counter()
            self.shown = None
            self.seen.set()

    async def press(self, key: str, shown: Callable[[], bool]) -> float:
        self.seen.clear()
        self.shown = shown
        started = time.perf_counter()
        self.app.post_message(events.Key(key, key if len(key) == 1 else None))
        await asyncio.wait_for(self.seen.wait(), GIVE_UP_S)
        return (self.painted_at - started) * 1000


class FullCollections:
    """Durations (ms) of the garbage collections that run while `on`: the full (generation 2)
    ones on the clock (`pauses`) and in CPU time of the collecting thread (`cpu`), which a busy
    machine does not stretch; the young ones (generations 0 and 1) on the clock (`young`)."""

    def __init__(self) -> None:
        self.on = False
        self.pauses: list[float] = []
        self.cpu: list[float] = []
        self.young: list[float] = []
        self._started = self._started_cpu = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if not self.on:
            return
        if phase == "start":
            self._started, self._started_cpu = time.perf_counter(), time.thread_time()
        elif info["generation"] == 2:
            self.pauses.append((time.perf_counter() - self._started) * 1000)
            self.cpu.append((time.thread_time() - self._started_cpu) * 1000)
        else:
            self.young.append((time.perf_counter() - self._started) * 1000)

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
    area = app.screen.query_one("#template", TextArea)
    for kind in ("tabs", "typing"):
        samples: list[float] = getattr(case, kind)
        if kind == "typing":
            area.focus()  # our Prompt tab gives the keyboard to the segment list
            await asyncio.sleep(0.05)
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
                pane = app.screen.query_one(f"#{TAB_IDS[key]}")

                def shown(pane=pane) -> bool:
                    """The pane has a place in the frame (a hidden one has none)."""
                    return pane.region.area > 0

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
            await watch.press("f2", lambda: True)

            def batch_going() -> bool:
                return app.services.control.running is not None

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
            await app.services.control.cancel_all()
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
