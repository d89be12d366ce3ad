"""Everything the TUI drives, built once from the config: the same launcher, run control,
prompt engine and learning files as `stablenew run`. No Textual here, and no widgets: screens
turn keys and messages into calls on these."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.errors import InputError
from stablenew_tui.learning.ratings import RATINGS_NAME, RatingStore
from stablenew_tui.learning.records import RECORDS_NAME, RecordsFollower
from stablenew_tui.learning.suggest import favourites
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.engine import EngineOptions
from stablenew_tui.pipeline.events import EventStream
from stablenew_tui.pipeline.lastrun import LAST_RUN_NAME, save_last_run
from stablenew_tui.pipeline.launch import RunLauncher
from stablenew_tui.pipeline.monitor import NodeMonitor
from stablenew_tui.pipeline.settings import PipelineSettings, merge_settings, settings_as_table
from stablenew_tui.prompts import PackInfo, discover_packs
from stablenew_tui.prompts.draft import PromptDraft
from stablenew_tui.services.control import RunControl
from stablenew_tui.services.results import ResultsFeed
from stablenew_tui.webui.resources import ResourceCatalog


@dataclass
class TuiServices:
    config: AppConfig
    app_paths: AppPaths
    nodes: list[NodeConfig]
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.events = EventStream()
        self.launcher = RunLauncher(
            self.config, self.app_paths, self.nodes, events=self.events,
            options=EngineOptions(previews=False),
        )  # fmt: skip
        self.warnings.extend(self.launcher.warnings)
        self.monitor = NodeMonitor(self.launcher.pool, self.events)
        self.control = RunControl(self.launcher, self.monitor)
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
        """What the stage cards start from: defaults < config < last run."""
        try:
            settings = merge_settings(*self.launcher.settings_layers({}, {}))
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

    def new_seed(self) -> int:
        return self.rng.randrange(2**32 - 1)

    async def catalog(self, refresh: bool = False) -> ResourceCatalog | None:
        """The first node's catalog (all nodes must offer what a run asks for)."""
        handles = self.launcher.pool.handles
        return await handles[0].catalog.get(refresh=refresh) if handles else None

    def favourites(self, catalog: ResourceCatalog) -> dict[str, list[str]]:
        """Dropdown entries to list first (★), keyed by catalog list. Reads only the records
        appended since the last call."""
        rated = self.ratings.rated()
        if not rated:
            return {}
        records = self.records.refresh()
        models = [
            model.title
            for name in favourites("model", rated, records)
            for model in catalog.model_details
            if model.matches(name)
        ]
        return {"models": models, "samplers": favourites("sampler", rated, records)}
