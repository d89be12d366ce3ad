"""The Textual app: wires config, themes, keymap and the main screen. Nothing else lives here."""

from __future__ import annotations

import os
from collections.abc import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.paths import AppPaths
from stablenew_tui.tui.screens.main import MainScreen
from stablenew_tui.tui.services import TuiServices
from stablenew_tui.tui.themes import BUNDLED_THEMES, DEFAULT_THEME, load_themes
from stablenew_tui.tui.widgets.insights import OptionTable
from stablenew_tui.tui.widgets.prompt_editor import SegmentTable
from stablenew_tui.tui.widgets.queue_view import QueueView
from stablenew_tui.tui.widgets.results import ResultsTable


class StableNewApp(App):
    TITLE = "StableNew"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="quit")]
    CSS = """
    #tabs { height: 1fr; }
    /* Notifications sit above the progress line, never over it. */
    ToastRack { margin-bottom: 2; }
    """

    def __init__(self, services: TuiServices) -> None:
        super().__init__()
        self.services = services
        if not services.config.ui.animations and "TEXTUAL_ANIMATIONS" not in os.environ:
            self.animation_level = "none"  # a TEXTUAL_ANIMATIONS the user set wins

    def on_mount(self) -> None:
        self._apply_themes()
        self._apply_keymap()
        self.push_screen(MainScreen(self.services))

    async def on_unmount(self) -> None:
        await self.services.aclose()

    def _apply_themes(self) -> None:
        loaded = load_themes(BUNDLED_THEMES, self.services.app_paths.user_themes_dir)
        for theme in loaded.themes:
            self.register_theme(theme)
        for problem in loaded.problems:
            self.notify(problem, title="theme skipped", severity="warning", timeout=10)
        wanted = self.services.config.ui.theme
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.notify(f"no theme named {wanted!r}; using {DEFAULT_THEME}", severity="warning")
            self.theme = DEFAULT_THEME

    def _apply_keymap(self) -> None:
        keymap = self.services.config.ui.keymap
        known = {
            binding.id for bindings in self.binding_sections().values() for binding in bindings
        }
        unknown = sorted(set(keymap) - known)
        if unknown:
            self.notify(f"keymap: no binding with id {', '.join(unknown)}", severity="warning")
        self.set_keymap({key: value for key, value in keymap.items() if key in known})

    def binding_sections(self) -> dict[str, list[Binding]]:
        """Every binding, grouped by where it works, for help and the keymap check."""
        return {
            "everywhere": [*MainScreen.BINDINGS, *StableNewApp.BINDINGS],
            "segments (Prompt tab)": list(SegmentTable.BINDINGS),
            "queue (Queue tab)": list(QueueView.BINDINGS),
            "results (Results tab)": list(ResultsTable.BINDINGS),
            "insights (Insights tab)": list(OptionTable.BINDINGS),
        }

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette offers every action, by its description."""
        yield from super().get_system_commands(screen)
        if not isinstance(screen, MainScreen):
            return
        for binding in MainScreen.BINDINGS:
            action = binding.action
            yield SystemCommand(
                binding.description, f"{binding.key} · {binding.id}",
                lambda action=action: self.run_action(action, screen),
            )  # fmt: skip
        for title in ("Lock all segments", "Unlock all segments", "Re-roll all segments"):
            verb = title.split()[0].lower().replace("-", "")
            yield SystemCommand(title, "Prompt tab", lambda verb=verb: screen.query_one(
                SegmentTable).post_message(SegmentTable.Act(f"{verb}_all", None)))  # fmt: skip


def make_app(config: AppConfig, app_paths: AppPaths, nodes: list[NodeConfig]) -> StableNewApp:
    """The one way to build the app: the CLI and every test use it."""
    return StableNewApp(TuiServices(config, app_paths, nodes))
