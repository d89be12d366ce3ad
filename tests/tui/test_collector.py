"""The garbage collector is set for short, rare pauses once the app is up: start-up's objects
frozen out of its scans, young collections less often, full ones from a timer in a pause in
typing; cycles made later are still freed."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from stablenew_tui.tui.collector import (
    FULL_AFTER,
    LONGEST_WAIT,
    NEVER,
    PYTHON_THRESHOLDS,
    YOUNG_COLLECTION_EVERY,
    QuietCollector,
)
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
            # Made once the keys have paused for a second.
            await wait_until(pilot, lambda: dropped() is None, timeout=5, what="the cycle freed")
        assert gc.get_threshold() == PYTHON_THRESHOLDS  # Python's own again, the app ended
    finally:
        gc.set_threshold(*threshold)


@pytest.fixture
def no_automatic_full_collection() -> Iterator[None]:
    """As the app sets it: only the collector's own calls make full collections."""
    threshold = gc.get_threshold()
    gc.collect()
    gc.set_threshold(threshold[0], threshold[1], NEVER)
    yield
    gc.set_threshold(*threshold)


def _old_dropped_cycle() -> weakref.ref:
    """A cycle in the oldest generation, dropped: only a full collection frees it."""
    cycle = _Cycle()
    gc.collect(1)
    return weakref.ref(cycle)


def _middle_collections_until(waiting: int) -> None:
    """Middle-generation collections until `waiting` have happened since the last full one."""
    while gc.get_count()[2] < waiting:
        gc.collect(1)


def test_a_due_full_collection_waits_for_a_pause_in_typing(no_automatic_full_collection):
    collector = QuietCollector()
    collector.input_seen()  # a key just now
    dropped = _old_dropped_cycle()
    _middle_collections_until(FULL_AFTER)
    collector.collect_when_due()
    assert dropped() is not None  # due, but the keys have not paused

    fresh = QuietCollector()  # no key for as long as it has been up
    fresh.collect_when_due()
    assert dropped() is None


def test_keys_that_never_pause_delay_a_full_collection_only_so_long(no_automatic_full_collection):
    collector = QuietCollector()
    dropped = _old_dropped_cycle()
    _middle_collections_until(LONGEST_WAIT - 1)
    collector.input_seen()
    collector.collect_when_due()
    assert dropped() is not None
    _middle_collections_until(LONGEST_WAIT)
    collector.input_seen()
    collector.collect_when_due()
    assert dropped() is None
