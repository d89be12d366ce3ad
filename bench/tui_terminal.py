"""(c) Keypress → terminal: `send-keys` to a `capture-pane` that shows the tab, in tmux.

The batch streams twice: from an instant simulator (as fast as the app takes images, ~80 a
second: a stress on 2 cores shared by the simulator, the app and tmux), then from the same
simulator paced to PACED_IMAGES_PER_S, about what ten GPUs make at the app's default settings.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tui_common import BATCH, GIVE_UP_S, MINIMAL_TABS_APP, TAB_MARKERS, Tmux, write_warm_start

from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.sim.engine import SECONDS_PER_STEP_PER_MEGAPIXEL

PACED_IMAGES_PER_S = 10


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


def paced_speed() -> float:
    """The simulator's speed at which it makes PACED_IMAGES_PER_S of the warm start's images."""
    txt2img = PipelineSettings().txt2img
    megapixels = txt2img.width * txt2img.height / 1e6
    return SECONDS_PER_STEP_PER_MEGAPIXEL * megapixels * txt2img.steps * PACED_IMAGES_PER_S


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
        httpx.post(f"{url}/sim/speed", json={"speed": paced_speed()}).raise_for_status()
        paced, _ = tab_samples(tmux, count, streaming=True)
        return {"floor": floor, "idle": idle, "batch": loaded, "paced": paced, "runs": runs + 1}
    finally:
        tmux.quit()
        sim.terminate()
        sim.wait(10)
