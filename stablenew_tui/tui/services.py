"""Everything the TUI drives, built once from the config: the same launcher, run control,
prompt engine and learning files as `stablenew run`. No Textual here, and no widgets: screens
turn keys and messages into calls on these."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.errors import InputError
from stablenew_tui.learning.learned import template_beliefs
from stablenew_tui.learning.pick_report import PickRankings, load_pick_rankings
from stablenew_tui.learning.rated_images import join_ratings
from stablenew_tui.learning.ratings import RATINGS_NAME, Rating, RatingStore
from stablenew_tui.learning.records import RECORDS_NAME, RecordsFollower
from stablenew_tui.learning.report import LearnReport, build_report
from stablenew_tui.learning.suggest import Favourite, favourites
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.engine import EngineOptions
from stablenew_tui.pipeline.events import EventStream
from stablenew_tui.pipeline.lastrun import LAST_RUN_NAME, save_last_run
from stablenew_tui.pipeline.launch import RunLauncher
from stablenew_tui.pipeline.monitor import NodeMonitor
from stablenew_tui.pipeline.node_tally import NodeTally, node_tallies
from stablenew_tui.pipeline.settings import PipelineSettings, merge_settings, settings_as_table
from stablenew_tui.prompts import PackInfo, discover_packs
from stablenew_tui.prompts.classic.presets import preset_names
from stablenew_tui.prompts.classic.rewrite import inline_wildcards
from stablenew_tui.prompts.draft import PromptDraft
from stablenew_tui.services.control import RunControl
from stablenew_tui.services.node_control import NodeControl
from stablenew_tui.services.nodes import NodeRow, board_rows
from stablenew_tui.services.results import ResultsFeed
from stablenew_tui.services.run_status import RunStatus
from stablenew_tui.webui.resources import ResourceCatalog


@dataclass(frozen=True)
class Insights:
    report: LearnReport
    picks: PickRankings


@dataclass
class TuiServices:
    config: AppConfig
    app_paths: AppPaths
    nodes: list[NodeConfig]
    warnings: list[str] = field(default_factory=list)
    preset: str | None = None  # the classic preset the next runs take

    def __post_init__(self) -> None:
        self.events = EventStream()
        self.launcher = RunLauncher(
            self.config, self.app_paths, self.nodes, events=self.events,
            options=EngineOptions(previews=False),
        )  # fmt: skip
        self.warnings.extend(self.launcher.warnings)
        self.monitor = NodeMonitor(self.launcher.pool, self.events)
        self.control = RunControl(self.launcher, self.monitor)
        self.node_control = NodeControl(self.launcher, self.monitor)
        self.run_status = RunStatus()
        self.ratings = RatingStore(self.app_paths.data_dir / RATINGS_NAME)
        self.draft = PromptDraft(
            self.launcher.wildcards, self.launcher.last_run.prompt,
            self.launcher.last_run.negative,
        )  # fmt: skip
        self.rng = random.Random()
        self.records = RecordsFollower(self.app_paths.data_dir / RECORDS_NAME)
        self.results = ResultsFeed(self.records, self.ratings)

    async def aclose(self) -> None:
        await self.launcher.aclose()

    def warm_settings(self) -> dict[str, Any]:
        """What the stage cards start from: defaults < config < last run < the preset chosen."""
        try:
            preset = self.launcher.preset(self.preset)
            settings = merge_settings(*self.launcher.settings_layers({}, {}, preset=preset))
        except InputError as error:
            self.warnings.append(f"settings: {error}; starting from the defaults")
            settings = PipelineSettings()
        return settings_as_table(settings)

    def remember(self, flags: dict, prompt: str, negative: str) -> None:
        """Save the session's settings and prompt as the last run, so the next start is warm.
        Settings that do not merge (an invalid card) leave the remembered ones as they were."""
        try:
            settings = merge_settings(*self.launcher.settings_layers({}, flags))
        except InputError:
            settings = PipelineSettings.model_validate(self.warm_settings())
        save_last_run(self.app_paths.data_dir / LAST_RUN_NAME, settings, prompt, negative)

    def packs(self) -> list[PackInfo]:
        return discover_packs(self.launcher.pack_folders)

    def presets(self) -> list[str]:
        return preset_names(self.launcher.preset_folders)

    def use_preset(self, name: str | None) -> list[str]:
        """Take preset `name` for the next runs (None: none); returns what it cannot do. A bad
        preset raises `InputError` and leaves the one in use. The editor then knows the
        preset's inline wildcards."""
        preset = self.launcher.preset(name)
        self.preset = name
        randomization = preset.randomization if preset else None
        inline = inline_wildcards(randomization) if randomization else {}
        self.draft.wildcards = self.launcher.wildcards.with_inline(inline)
        self.draft.edit(self.draft.text)
        return list(preset.warnings) if preset else []

    def new_seed(self) -> int:
        return self.rng.randrange(2**32 - 1)

    async def catalog(self, refresh: bool = False) -> ResourceCatalog | None:
        """The first node's catalog (all nodes must offer what a run asks for)."""
        handles = self.launcher.pool.handles
        return await handles[0].catalog.get(refresh=refresh) if handles else None

    def node_tallies(self) -> dict[str, NodeTally]:
        """Each node's images done and failed, read from the queue (blocking: a thread)."""
        return node_tallies(self.launcher.queue.path)

    def node_rows(self, tallies: dict[str, NodeTally]) -> list[NodeRow]:
        """Every node of the session as the Nodes tab shows it, from what is known now."""
        return board_rows(
            self.monitor.status, self.run_status.activity, self.node_control.drained,
            self.launcher.engine.scheduler.speeds, tallies, self.run_status.out,
        )  # fmt: skip

    def favourites(self, catalog: ResourceCatalog) -> dict[str, list[Favourite]]:
        """Dropdown entries to list first (★), keyed by catalog list, with their evidence.
        Reads only the records appended since the last call."""
        rated = self.ratings.rated()
        if not rated:
            return {}
        found = favourites(join_ratings(rated, self.records.refresh()).images)
        if "models" in found:  # records name checkpoints as chosen or as loaded: show titles
            found["models"] = [
                replace(favourite, value=model.title)
                for favourite in found["models"]
                for model in catalog.model_details
                if model.matches(favourite.value)
            ]
        return found

    def refresh_beliefs(self, rated: list[Rating]) -> None:
        """What the `rated` images say about template options, for the editor's learned
        preview (a run computes the same from the files when it starts). Runs in a thread;
        the ratings are read on the app's thread, where they change."""
        self.draft.beliefs = template_beliefs(join_ratings(rated, self.records.refresh()).images)

    def insights(self, rated: list[Rating]) -> Insights:
        """The learning report on the `rated` images, and the comparison grids ranked from
        their pairwise picks, as `stablenew learn report` gives them (runs in a thread)."""
        joined = join_ratings(rated, self.records.refresh())
        report = build_report(joined.images, unmatched=joined.unmatched)
        return Insights(report, load_pick_rankings(self.app_paths.data_dir))
