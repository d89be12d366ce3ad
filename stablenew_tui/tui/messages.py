"""Engine events delivered to widgets as Textual messages."""

from __future__ import annotations

from textual.message import Message

from stablenew_tui.pipeline.events import Event, StageProgress, VideoProgressed


class EngineEvent(Message):
    """One engine event. Progress messages replace older ones still waiting in the queue, so
    a fast stream never backs up the UI."""

    def __init__(self, event: Event) -> None:
        self.event = event
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        if not isinstance(message, EngineEvent):
            return False
        mine, theirs = self.event, message.event
        if isinstance(mine, StageProgress) and isinstance(theirs, StageProgress):
            return mine.node == theirs.node
        return isinstance(mine, VideoProgressed) and isinstance(theirs, VideoProgressed)
