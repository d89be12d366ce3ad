"""Engine events delivered to the screen as Textual messages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.message import Message

from stablenew_tui.pipeline.events import Event, EventStream, StageProgress, VideoProgressed

EVENT_BATCH_SECONDS = 0.1  # the engine's news reaches the screen at most this often


class EngineEvents(Message):
    """The engine's events since the last message, in order. The screen gets them in batches,
    ten times a second at most: a fast batch of images would otherwise repaint the screen for
    every event and keep the keyboard waiting behind the repaints. (This replaces a
    `can_replace()` per progress message: the job log needs every other event.)"""

    def __init__(self, events: list[Event]) -> None:
        self.events = without_stale_progress(events)
        super().__init__()


def without_stale_progress(events: list[Event]) -> list[Event]:
    """`events` without the progress reports that a later one in the list supersedes (per
    node for stages; the one video): only the newest is worth drawing."""
    newest: dict[tuple, int] = {}
    for index, event in enumerate(events):
        if isinstance(event, StageProgress):
            newest[("stage", event.node)] = index
        elif isinstance(event, VideoProgressed):
            newest[("video",)] = index
    keep = set(newest.values())
    return [
        event
        for index, event in enumerate(events)
        if index in keep or not isinstance(event, StageProgress | VideoProgressed)
    ]


async def pump_events(stream: EventStream, post: Callable[[EngineEvents], object]) -> None:
    """Post the stream's events as `EngineEvents` until it closes. The first event after a
    quiet spell goes at once; what follows within EVENT_BATCH_SECONDS goes together."""
    queue = stream.subscribe_queue()
    while True:
        events = [await queue.get()]
        while not queue.empty():
            events.append(queue.get_nowait())
        if any(event is not None for event in events):
            post(EngineEvents([event for event in events if event is not None]))
        if None in events:  # the stream has closed
            return
        await asyncio.sleep(EVENT_BATCH_SECONDS)
