"""Everything the TUI drives, built once from the config: the same engine, queue, prompt
engine and learning files as `stablenew run`. No Textual here."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from pathlib import Path

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.errors import InputError
from stablenew_tui.learning.learned import template_beliefs
from stablenew_tui.learning.rated_images import join_ratings
from stablenew_tui.learning.ratings import RATINGS_NAME, Rating, RatingStore
from stablenew_tui.learning.records import RECORDS_NAME, RecordsFollower
from stablenew_tui.learning.report import LearnReport, build_report
from stablenew_tui.learning.suggest import Favourite, favourites
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.dispatcher import RunDispatcher
from stablenew_tui.pipeline.engine import EngineOptions
from stablenew_tui.pipeline.events import EventStream
from stablenew_tui.pipeline.launch import RunLauncher
from stablenew_tui.pipeline.monitor import NodeMonitor
from stablenew_tui.pipeline.settings import PipelineSettings, merge_settings, settings_as_table
from stablenew_tui.prompts import discover_packs
from stablenew_tui.prompts.draft import PromptDraft
from stablenew_tui.tui.widgets.results import ResultRow
from stablenew_tui.webui.resources import ResourceCatalog

RECENT_RESULTS = 500


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
        self.dispatcher = RunDispatcher(self.launcher)
        self.ratings = RatingStore(self.app_paths.data_dir / RATINGS_NAME)
        self.draft = PromptDraft(
            self.launcher.wildcards, self.launcher.last_run.prompt,
            self.launcher.last_run.negative,
        )  # fmt: skip
        self.rng = random.Random()
        self.records = RecordsFollower(self.app_paths.data_dir / RECORDS_NAME)

    async def aclose(self) -> None:
        await self.launcher.aclose()

    def warm_settings(self) -> dict:
        """What the stage cards start from: defaults < config < last run."""
        try:
            settings = merge_settings(*self.launcher.settings_layers({}, {}))
        except InputError as error:
            self.warnings.append(f"settings: {error}; starting from the defaults")
            settings = PipelineSettings()
        return settings_as_table(settings)

    def packs(self):
        return discover_packs(self.launcher.pack_folders)

    def new_seed(self) -> int:
        return self.rng.randrange(2**32 - 1)

    async def catalog(self, refresh: bool = False) -> ResourceCatalog | None:
        """The first node's catalog (all nodes must offer what a run asks for)."""
        handles = self.launcher.pool.handles
        return await handles[0].catalog.get(refresh=refresh) if handles else None

    def past_results(self) -> list[ResultRow]:
        """The final image of recent jobs still on disk, with its rating, from the learning
        records (runs in a thread)."""
        records = self.records.refresh()
        last_stage: dict[str, dict] = {}
        for record in records:
            if record.get("job_id") and record.get("outputs", {}).get("paths"):
                last_stage[record["job_id"]] = record
        results = []
        for record in list(last_stage.values())[-RECENT_RESULTS:]:
            inputs, path = record.get("inputs", {}), record["outputs"]["paths"][-1]
            if not Path(path).exists():
                continue
            results.append(
                ResultRow(
                    path=path, time=record.get("time", 0.0),
                    prompt=inputs.get("prompt", ""), model=inputs.get("model", ""),
                    sampler=inputs.get("sampler", ""), seed=inputs.get("seed"),
                    rating=self.ratings.get(path), job_id=record.get("job_id"),
                    run_id=record.get("run_id"), stage=record.get("stage"),
                )
            )  # fmt: skip
        return results

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

    def insights(self, rated: list[Rating]) -> LearnReport:
        """The learning report on the `rated` images (runs in a thread)."""
        joined = join_ratings(rated, self.records.refresh())
        return build_report(joined.images, unmatched=joined.unmatched)
