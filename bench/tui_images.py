"""(d) Opening an image's details and its full-screen preview, in process with Pilot.

The app (120×40, instant simulator in the same loop) makes a 200-image batch, then with the
Results tab in view each sample moves the cursor to another image and times two keys from the
key event to the first frame that shows the result: Enter until the details view shows that
image's details (the file and its run's manifest are read in a thread), and `v` until the
full-screen preview shows the decoded image; Escape closes each (not timed). "idle": after the
batch; "batch": while a second 200-image batch streams (a new one is queued when it ends).
"""

from __future__ import annotations

import asyncio
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from textual import events
from tui_common import BATCH, write_warm_start
from tui_pilot import FrameWatch, FullCollections

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.paths import AppPaths
from stablenew_tui.sim import SimServer
from stablenew_tui.tui.app import StableNewApp, make_app
from stablenew_tui.tui.screens.details import DetailsScreen
from stablenew_tui.tui.screens.main import MainScreen
from stablenew_tui.tui.screens.preview import FullPreview
from stablenew_tui.tui.widgets.node_status import NodeStatusBar
from stablenew_tui.tui.widgets.results import ResultsTable

TARGET_OPEN_P95_MS = 100.0


@dataclass
class ImageViewsCase:
    details: list[float] = field(default_factory=list)
    preview: list[float] = field(default_factory=list)
    full_gcs: list[float] = field(default_factory=list)  # ms each, while sampling
    full_gcs_cpu: list[float] = field(default_factory=list)  # their CPU time, ms
    young_gcs: list[float] = field(default_factory=list)  # generations 0 and 1, ms each


def _details_shown(app: StableNewApp) -> bool:
    screen = app.screen
    return isinstance(screen, DetailsScreen) and screen.details is not None


def _preview_shown(app: StableNewApp) -> bool:
    screen = app.screen
    if not isinstance(screen, FullPreview):
        return False
    image = screen.query_one("#full-preview").children
    return bool(image) and getattr(image[0], "image", None) is not None


async def _close(app: StableNewApp, watch: FrameWatch) -> None:
    await watch.press("escape", lambda: isinstance(app.screen, MainScreen))


async def _batch(app: StableNewApp) -> None:
    """Queue the warm start's 200 images and wait until they are being made."""
    app.post_message(events.Key("ctrl+r", None))
    while app.services.control.running is None:
        await asyncio.sleep(0.005)


async def image_views_case(
    scratch: Path, count: int, streaming: bool, gcs: FullCollections
) -> ImageViewsCase:
    home = scratch / f"images-{'batch' if streaming else 'idle'}"
    write_warm_start(home, BATCH)
    os.environ["STABLENEW_HOME"] = str(home)
    case = ImageViewsCase()
    async with SimServer(speed=0) as sim:
        nodes = [NodeConfig(name="sim", url=sim.url)]
        app = make_app(AppConfig(), AppPaths.from_environment(), nodes)
        async with app.run_test(size=(120, 40)) as pilot:
            bar = app.screen.query_one(NodeStatusBar)
            while [status.state for status in bar.statuses.values()] != ["READY"]:
                await pilot.pause(0.02)
            watch = FrameWatch(app)
            await _batch(app)  # the images to open
            while app.services.control.running is not None:
                await pilot.pause(0.05)
            table = app.screen.query_one(ResultsTable)
            await watch.press("f5", lambda: table.row_count >= BATCH)
            gcs.pauses, gcs.cpu, gcs.young, gcs.on = [], [], [], True
            for _ in range(count):
                if streaming and app.services.control.running is None:
                    await _batch(app)
                await watch.press("j", lambda: True)
                case.details.append(await watch.press("enter", lambda: _details_shown(app)))
                await _close(app, watch)
                case.preview.append(await watch.press("v", lambda: _preview_shown(app)))
                await _close(app, watch)
                await asyncio.sleep(random.uniform(0.01, 0.03))
            gcs.on = False
            case.full_gcs, case.full_gcs_cpu, case.young_gcs = gcs.pauses, gcs.cpu, gcs.young
            await app.services.control.cancel_all()
    return case


async def bench_image_views(count: int, scratch: Path) -> dict[str, ImageViewsCase]:
    gcs = FullCollections()
    try:
        return {
            "idle": await image_views_case(scratch, count, False, gcs),
            "batch": await image_views_case(scratch, count, True, gcs),
        }
    finally:
        gcs.close()
