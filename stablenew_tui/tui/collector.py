"""Python's cyclic garbage collector, set for a steady frame time once the app is up.

A full collection walks every live object the collector tracks and stops the app meanwhile;
on a busy screen (the Results tab with an image, the details view) that is 40-90 ms, more than
a keypress may take. Python starts one when enough objects have been made, which is mostly
while a key's frame is drawn: so full collections land on the keys. Three settings:

- **Freeze what start-up made.** The widget tree, the modules and the settings live as long as
  the app: `gc.freeze()` moves them out of every later scan. It is done once: what is frozen is
  never scanned again, so cycles made later (and dropped) must stay collectable.
- **Young collections less often.** Drawing a frame makes tens of thousands of short-lived
  objects; Textual's rendered lines (`Strip`) hold caches that refer back to themselves, so they
  die only in a collection. With Python's default of a young collection every 700 new objects,
  a frame's lines are still alive at several of them, are promoted to the old generation with
  the rest of the frame's working set, and die there: the old generation fills with the dead
  lines of the last frames and a full collection follows every few keys. Collecting the young
  generation every few thousand objects lets most of a frame's objects die young, where a
  collection is cheap, and full collections become about ten times rarer.
- **Full collections on a timer, between keys.** Python would start a full collection after
  `FULL_AFTER` collections of the middle generation; the app starts it itself, from a timer
  between frames, once that many have happened and no key (or mouse) has come for
  `QUIET_SECONDS`: a key pressed during a collection waits for it, so collections wait for a
  pause in typing. Someone who never pauses still gets one once `LONGEST_WAIT` middle
  collections have passed: the garbage they would free stays bounded.
"""

from __future__ import annotations

import gc
import time

from textual.app import App

# New objects (net) between two young collections; Python's default is 700. Much higher and a
# young collection itself takes tens of ms (it walks every object made since the last one).
YOUNG_COLLECTION_EVERY = 5_000
FULL_AFTER = 10  # middle-generation collections between full ones: Python's own default
NEVER = 2**31 - 1  # a threshold no count reaches
LONGEST_WAIT = 5 * FULL_AFTER  # middle-generation collections while keys keep coming
QUIET_SECONDS = 1.0  # no input for this long: a pause in typing
CHECK_SECONDS = 0.5
PYTHON_THRESHOLDS = gc.get_threshold()  # as the process started


class QuietCollector:
    """Sets the collector once the app is up and makes its full collections between keys."""

    def __init__(self) -> None:
        self._last_input = 0.0  # monotonic time of the last key or mouse event

    def settle(self, app: App) -> None:
        """Call once, when the first frame is on screen."""
        gc.freeze()
        _, middle, _ = gc.get_threshold()
        gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, NEVER)
        app.set_interval(CHECK_SECONDS, self.collect_when_due, name="full garbage collection")

    def input_seen(self) -> None:
        self._last_input = time.monotonic()

    def collect_when_due(self) -> None:
        """A full collection once Python would have made one, in a pause in typing."""
        waiting = gc.get_count()[2]
        quiet = time.monotonic() - self._last_input >= QUIET_SECONDS
        if waiting >= LONGEST_WAIT or (waiting >= FULL_AFTER and quiet):
            gc.collect()

    @staticmethod
    def restore() -> None:
        """Python's own thresholds again when the app ends: whatever runs next in the process
        (tests, an embedding program) has no timer to make its full collections."""
        gc.set_threshold(*PYTHON_THRESHOLDS)
