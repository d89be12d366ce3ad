"""Building the app exactly as the CLI does, and waiting for it as a user would."""

from __future__ import annotations

import asyncio

from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, OptionList, Select, TextArea

from stablenew_tui.config import AppConfig, NodeConfig, UIConfig
from stablenew_tui.paths import AppPaths
from stablenew_tui.tui.app import StableNewApp, make_app
from stablenew_tui.tui.widgets.node_status import NodeStatusBar
from stablenew_tui.tui.widgets.results import ResultsTable


def app_for(url: str, config: AppConfig | None = None) -> StableNewApp:
    config = config or AppConfig(ui=UIConfig(image_preview="unicode"))
    return make_app(config, AppPaths.from_environment(), [NodeConfig(name="sim", url=url)])


async def wait_until(pilot: Pilot, condition, timeout: float = 20.0, what: str = "") -> None:
    """Let the app run until `condition()` holds; fail with `what` after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.05)


def node_state(app: StableNewApp) -> str:
    bar = app.screen.query_one(NodeStatusBar)
    return next(iter(bar.statuses.values())).state


async def results_in_view(pilot: Pilot, count: int) -> ResultsTable:
    """Show the Results tab (rows are drawn only while it is in view) and wait until it has
    `count` rows."""
    if pilot.app.screen.active_tab != "results":
        await pilot.press("f5")
    table = pilot.app.screen.query_one(ResultsTable)
    await wait_until(pilot, lambda: table.row_count == count, what=f"{count} result row(s)")
    return table


def drawn_text(widget: Widget) -> str:
    """The widget's lines as last drawn, one per row."""
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


def option_labels(select: Select) -> list[str]:
    """What a dropdown lists, as its option list shows it (the blank choice first, if any)."""
    options = select.query_one(OptionList)
    return [str(options.get_option_at_index(n).prompt) for n in range(options.option_count)]


class Notifications:
    """The notifications an app shows, collected as it posts them: pass `collect` as
    `run_test(message_hook=...)`."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def collect(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.messages.append(message.notification.message)

    def any(self, text: str) -> bool:
        return any(text in message for message in self.messages)


def posted(sim, endpoint: str) -> list[dict]:
    """The bodies the simulator received at `endpoint`."""
    return [r.body for r in sim.requests if r.method == "POST" and r.path.endswith("/" + endpoint)]


async def type_template(pilot, text: str) -> None:
    area = pilot.app.screen.query_one("#template", TextArea)
    area.text = text
    draft = pilot.app.services.draft
    await wait_until(pilot, lambda: draft.text == text, what="the edit to settle")


async def run_with(pilot, prompt: str, fields: dict[str, str]) -> None:
    """Set stage-card fields (`#field-…` ids), type `prompt` and run it, as a user would."""
    await pilot.press("f3")
    for field_id, value in fields.items():
        pilot.app.screen.query_one(f"#field-{field_id}", Input).value = value
    await pilot.press("f2")
    await type_template(pilot, prompt)
    await pilot.press("ctrl+r")
