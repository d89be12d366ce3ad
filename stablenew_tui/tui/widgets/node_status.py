"""One line, always visible: every node's state, what it is making, server and loaded model.
A node the run's breaker took out shows OUT while it rests, though it may answer (READY)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from stablenew_tui.pipeline.events import NodeStatus
from stablenew_tui.services.nodes import OUT, RESTING, short_model

_STATE_MARK = {"DISCONNECTED": "✗", "CONNECTING": "…", "READY": "●", "BUSY": "◆", OUT: "○"}


class NodeStatusBar(Static):
    statuses: reactive[dict[str, NodeStatus]] = reactive(dict, always_update=True)
    activity: reactive[dict[str, str]] = reactive(dict)  # node → the image and stage it makes
    out: reactive[frozenset[str]] = reactive(frozenset)  # taken out by the run's breaker

    def __init__(self, statuses: dict[str, NodeStatus], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_reactive(NodeStatusBar.statuses, dict(statuses))

    def update_status(self, status: NodeStatus) -> None:
        self.statuses = {**self.statuses, status.node: status}

    def show_activity(self, activity: dict[str, str], out: set[str]) -> None:
        self.activity = dict(activity)  # redrawn only when it differs
        self.out = frozenset(out)

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        for number, status in enumerate(self.statuses.values()):
            if number:
                line.append("  │  ", style="dim")
            # Out of the run whatever the monitor (READY) or the breaker's own news
            # (DISCONNECTED) said last.
            state = OUT if status.node in self.out else status.state
            style = self.get_component_rich_style("node-status--" + state.lower())
            line.append(f"{_STATE_MARK.get(state, '?')} {status.node} ", style="bold")
            line.append(state, style=style)
            if state == OUT:
                line.append(f" {RESTING}", style="dim")
                continue
            if self.activity.get(status.node):
                line.append(f" {self.activity[status.node]}", style="bold")
            if status.state in ("READY", "BUSY") and status.server:
                line.append(f" {status.server}", style="dim")
            if status.model and status.state in ("READY", "BUSY"):
                line.append(f" · {short_model(status.model)}")
            if status.state == "DISCONNECTED" and status.detail:
                line.append(f" ({status.detail})", style="dim")
        return line

    DEFAULT_CSS = """
    NodeStatusBar { height: 1; padding: 0 1; background: $panel; }
    NodeStatusBar > .node-status--disconnected { color: $error; text-style: bold; }
    NodeStatusBar > .node-status--connecting { color: $warning; }
    NodeStatusBar > .node-status--ready { color: $success; text-style: bold; }
    NodeStatusBar > .node-status--busy { color: $accent; text-style: bold; }
    NodeStatusBar > .node-status--out { color: $warning; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "node-status--disconnected",
        "node-status--connecting",
        "node-status--ready",
        "node-status--busy",
        "node-status--out",
    }
