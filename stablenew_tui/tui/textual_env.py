"""Textual settings read once, when Textual is first imported: import this module before
anything imports Textual.

Frames are drawn only when something changed (no animations, no blinking cursors, engine news
a few times a second), so the frame-rate cap decides only how soon a key's frame may follow
the one before it. Textual draws on a fixed grid of 1/FPS and can skip a slot, so at its
default of 60 a key that lands just after a progress update waits up to ~33 ms to be seen.
"""

from __future__ import annotations

import os

FRAMES_PER_SECOND = 120

os.environ.setdefault("TEXTUAL_FPS", str(FRAMES_PER_SECOND))
