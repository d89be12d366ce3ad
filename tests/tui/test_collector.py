"""The garbage collector is set for short, rare pauses once the app is up: start-up's objects
frozen out of its scans, young collections less often, full ones from a timer between frames;
cycles made later are still freed."""

from __future__ import annotations

import gc
import weakref

from stablenew_tui.tui.collector import FULL_AFTER, PYTHON_THRESHOLDS, YOUNG_COLLECTION_EVERY
from tests.tui.helpers import app_for, node_state, wait_until


class _Cycle:
    """An object that refers to itself: only the cyclic collector can free it."""

    def __init__(self) -> None:
        self.me = self


async def test_the_collector_is_settled_once_the_app_is_up_and_later_cycles_are_freed(sim):
    threshold = gc.get_threshold()
    gc.unfreeze()  # as a fresh process starts: nothing frozen, Python's own thresholds
    gc.set_threshold(*PYTHON_THRESHOLDS)
    try:
        app = app_for(sim.url)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
            assert gc.get_freeze_count() > 0  # start-up's objects are out of the scans
            assert gc.get_threshold()[0] == YOUNG_COLLECTION_EVERY

            # A cycle made after start-up that lives long enough to reach the oldest
            # generation, then is dropped: only a full collection frees it.
            cycle = _Cycle()
            dropped = weakref.ref(cycle)
            gc.collect(1)  # the young generations' survivors move to the oldest
            del cycle
            for key in ("f4", "f5", "f2"):  # frames drawn: the app must not freeze again
                await pilot.press(key)
            for _ in range(FULL_AFTER):
                gc.collect(1)  # as many middle-generation collections as make one due
            await wait_until(pilot, lambda: dropped() is None, timeout=5, what="the cycle freed")
        assert gc.get_threshold() == PYTHON_THRESHOLDS  # Python's own again, the app ended
    finally:
        gc.set_threshold(*threshold)
