"""Python's cyclic garbage collector, set for a steady frame time once the app is up.

A full collection walks every live object the collector tracks and stops the app meanwhile;
on a busy screen (the Results tab with an image, the details view) that is 40-65 ms, more than
a keypress may take. Two settings keep those pauses short and rare:

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
  collection is cheap, and full collections become ten times rarer.
"""

from __future__ import annotations

import gc

# New objects (net) between two young collections; Python's default is 700. Much higher and a
# young collection itself takes tens of ms (it walks every object made since the last one).
YOUNG_COLLECTION_EVERY = 5_000


def settle_after_start() -> None:
    """Call once, when the first frame is on screen."""
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, oldest)
