"""The Textual app: wires config, themes, keymap and the main screen. Nothing else lives here."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from functools import partial

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.errors import InputError
from stablenew_tui.learning.picks import PICKS_NAME
from stablenew_tui.paths import AppPaths
from stablenew_tui.services.picking import PickSession
from stablenew_tui.tui.collector import QuietCollector
from stablenew_tui.tui.comparisons import MAKE_ENTRY, PICK_ENTRY, ComparisonActions
from stablenew_tui.tui.keys import KeySection, palette_bindings, readable_key, section
from stablenew_tui.tui.screens.add_node import AddNodeDialog
from stablenew_tui.tui.screens.compare_dialog import ComparisonDialog
from stablenew_tui.tui.screens.details import DetailsScreen
from stablenew_tui.tui.screens.help import HelpScreen
from stablenew_tui.tui.screens.main import MainScreen
from stablenew_tui.tui.screens.pack_browser import PackBrowser
from stablenew_tui.tui.screens.pick import PickScreen
from stablenew_tui.tui.screens.preset_chooser import PresetChoice, PresetChooser
from stablenew_tui.tui.screens.preview import FullPreview
from stablenew_tui.tui.screens.refine import RefineDialog
from stablenew_tui.tui.screens.resume import ResumeChooser
from stablenew_tui.tui.services import TuiServices
from stablenew_tui.tui.themes import BUNDLED_THEMES, DEFAULT_THEME, load_themes
from stablenew_tui.tui.widgets.insights import FactorTable, OptionTable
from stablenew_tui.tui.widgets.key_hints import key_display
from stablenew_tui.tui.widgets.nodes_view import NodesView
from stablenew_tui.tui.widgets.prompt_editor import PromptEditor, SegmentTable
from stablenew_tui.tui.widgets.queue_view import QueueView
from stablenew_tui.tui.widgets.results import ResultsTable
from stablenew_tui.tui.widgets.stage_cards import StageCards


class StableNewApp(App):
    TITLE = "StableNew"
    # Textual's own palette entries worth offering here; its key panel and maximize only
    # repeat the help screen or do nothing useful on these screens.
    TEXTUAL_COMMANDS = ("Theme", "Screenshot")
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="quit")]
    CSS = """
    #tabs { height: 1fr; }
    /* Notifications sit above the progress line, never over it. */
    ToastRack { margin-bottom: 2; }
    """

    def __init__(self, services: TuiServices) -> None:
        super().__init__()
        self.services = services
        self.comparisons = ComparisonActions(self)
        self.collector = QuietCollector()
        if not services.config.ui.animations and "TEXTUAL_ANIMATIONS" not in os.environ:
            self.animation_level = "none"  # a TEXTUAL_ANIMATIONS the user set wins

    def on_mount(self) -> None:
        self._apply_themes()
        self._apply_keymap()
        self.push_screen(MainScreen(self.services, self.collector))
        self.run_worker(self.comparisons.draw_sheets(), group="comparisons")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.collector.input_seen()
        await super().on_event(event)

    async def action_quit(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.remember_session()
        await super().action_quit()

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
        known = {binding.id for keys in key_sections() for binding in keys.bindings}
        unknown = sorted(set(keymap) - known)
        if unknown:
            self.notify(f"keymap: no binding with id {', '.join(unknown)}", severity="warning")
        self.set_keymap({key: value for key, value in keymap.items() if key in known})

    def action_help(self) -> None:
        self.push_screen(HelpScreen(key_sections(), self.services.config.ui.keymap))

    def get_key_display(self, binding: Binding) -> str:
        return readable_key(super().get_key_display(binding))

    def action_choose_preset(self) -> None:
        services = self.services
        self.push_screen(PresetChooser(services.presets(), services.preset), self._use_preset)

    @work(exclusive=True, group="pick", exit_on_error=False)
    async def action_pick_better(self) -> None:
        services = self.services
        selected = next(iter(self.screen.query(ResultsTable)), None)
        row = selected.selected if selected is not None else None
        picks_file = services.app_paths.data_dir / PICKS_NAME
        try:
            session = await asyncio.to_thread(
                PickSession.open, services.launcher.queue, row.run_id if row else None, picks_file
            )
        except (InputError, OSError) as error:  # no comparison; an unreadable manifest
            self.notify(str(error), severity="error", timeout=10)
            return
        ui = services.config.ui
        self.push_screen(PickScreen(session, ui.image_preview, ui.keymap))

    def _use_preset(self, choice: PresetChoice | None) -> None:
        if choice is None:
            return
        try:
            warnings = self.services.use_preset(choice.name)
        except InputError as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        # Back on the main screen: its cards show the preset's values.
        self.screen.query_one(StageCards).start_from(self.services.warm_settings())
        self.notify(f"preset {choice.name} for the next runs" if choice.name else "no preset")
        for warning in warnings:
            self.notify(warning, severity="warning", timeout=10)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette offers every action bound to a key where it works now, and
        the preset chooser."""
        for command in super().get_system_commands(screen):
            if command.title in self.TEXTUAL_COMMANDS:
                yield command
        if isinstance(screen, MainScreen):
            yield SystemCommand(
                "Load preset…", "a classic StableNew preset as settings for the next runs",
                self.action_choose_preset,
            )  # fmt: skip
            yield SystemCommand(
                MAKE_ENTRY, "one prompt and seed over every combination of up to three "
                "settings, queued as a run; its contact sheet is drawn when it ends",
                self.comparisons.open_dialog,
            )  # fmt: skip
            yield SystemCommand(
                PICK_ENTRY,
                "two images of a comparison side by side (the Results selection's, else the "
                "newest); ←/→ picks the better one",
                self.action_pick_better,
            )
        for keys in key_sections():
            target: DOMNode | None = None
            if isinstance(self, keys.owner):
                target = self
            elif isinstance(screen, keys.owner):
                target = screen
            elif issubclass(keys.owner, Widget):  # a widget of this screen, if it has one
                target = next(iter(screen.query(keys.owner)), None)
            if target is None:
                continue
            for binding in palette_bindings(keys):
                key = key_display(self, binding, self.services.config.ui.keymap)
                yield SystemCommand(
                    binding.description, f"{keys.title} · {key}",
                    partial(self.run_action, binding.action, target),
                )  # fmt: skip


def key_sections() -> list[KeySection]:
    """Every binding, grouped by where it works."""
    return [
        section("main screen", MainScreen),
        section("everywhere", StableNewApp),
        section("prompt editor (Prompt tab)", PromptEditor),
        section("segments (Prompt tab)", SegmentTable),
        section("queue (Queue tab)", QueueView),
        section("results (Results tab)", ResultsTable),
        section("insights (Insights tab)", OptionTable),
        section("insight factors (Insights tab)", FactorTable),
        section("nodes (Nodes tab)", NodesView),
        section("add node (a on the Nodes tab)", AddNodeDialog),
        section("image details (Enter on a result)", DetailsScreen),
        section("full-screen image (v on a result)", FullPreview),
        section(f"comparison grid ({MAKE_ENTRY} in the palette)", ComparisonDialog),
        section(f"pick mode ({PICK_ENTRY} in the palette)", PickScreen),
        section("refine marked images (i on the results)", RefineDialog),
        section("resume run (Ctrl+T)", ResumeChooser),
        section("pack browser (Ctrl+O)", PackBrowser),
        section("this help", HelpScreen),
    ]


def make_app(config: AppConfig, app_paths: AppPaths, nodes: list[NodeConfig]) -> StableNewApp:
    """The one way to build the app: the CLI and every test use it."""
    return StableNewApp(TuiServices(config, app_paths, nodes))
