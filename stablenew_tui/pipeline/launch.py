"""From "what the user asked for" to a planned run in the queue and an engine ready to run it.

The CLI and the TUI both start runs here, so settings merge, name checks and planning happen
one way only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.errors import InputError
from stablenew_tui.learning.records import RECORDS_NAME, RecordWriter
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.cluster import NodePool
from stablenew_tui.pipeline.engine import Engine, EngineOptions
from stablenew_tui.pipeline.events import EventStream
from stablenew_tui.pipeline.jobs import Job, PromptSpec, Run, plan_run
from stablenew_tui.pipeline.lastrun import LAST_RUN_NAME, load_last_run
from stablenew_tui.pipeline.outputs import new_run_folder
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.pipeline.settings import PipelineSettings, SettingsLayer, merge_settings
from stablenew_tui.pipeline.validate import check_names

QUEUE_NAME = "queue.sqlite3"


@dataclass
class RunRequest:
    pack: str | None = None
    prompt: str | None = None
    negative: str | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    mode: str | None = None
    locks: list[str] = field(default_factory=list)
    output_root: Path | None = None


@dataclass
class PreparedRun:
    run: Run
    jobs: list[Job]
    engine: Engine


@dataclass
class PromptSource:
    name: str
    prompts: list[PromptSpec]
    overrides: dict[str, Any] = field(default_factory=dict)
    origin: str = "prompt"


class RunLauncher:
    def __init__(
        self,
        config: AppConfig,
        app_paths: AppPaths,
        nodes: list[NodeConfig],
        *,
        events: EventStream | None = None,
        options: EngineOptions | None = None,
    ) -> None:
        self.config = config
        self.app_paths = app_paths
        data_dir = app_paths.data_dir
        self.queue = JobQueue(data_dir / QUEUE_NAME)
        self.pool = NodePool(nodes, config.client, webui_root=config.paths.webui_root)
        self.records = RecordWriter(data_dir / RECORDS_NAME)
        self.last_run = load_last_run(data_dir / LAST_RUN_NAME)
        self.warnings = list(self.last_run.warnings)
        options = options or EngineOptions()
        if options.ffmpeg is None and config.paths.ffmpeg is not None:
            options.ffmpeg = config.paths.ffmpeg.expanduser()
        self.engine = Engine(
            self.queue, self.pool, self.records, data_dir, events=events, options=options
        )

    async def aclose(self) -> None:
        await self.pool.aclose()
        self.queue.close()

    def settings_layers(
        self, overrides: dict[str, Any], flags: dict[str, Any], pack_name: str | None = None
    ) -> list[SettingsLayer]:
        """The merge layers, lowest first: defaults < config < last run < pack < flags."""
        config_stages = self.config.stages.model_dump()
        return [
            ("built-in defaults", {}),
            (f"config [stages] ({self.app_paths.config_file})", config_stages),
            (f"last run ({self.app_paths.data_dir / LAST_RUN_NAME})", self.last_run.settings),
            (f"pack {pack_name}", overrides),
            ("command line", flags),
        ]

    async def prepare(self, request: RunRequest) -> PreparedRun:
        source = self.prompt_source(request)
        layers = self.settings_layers(source.overrides, request.flags, source.name)
        settings = merge_settings(*layers)
        await self.check_against_nodes(settings)
        output_root = (request.output_root or self.config.output_root(self.app_paths)).expanduser()
        folder = new_run_folder(output_root, source.name, time.time())
        run, jobs = plan_run(
            source.prompts,
            settings,
            name=source.name,
            folder=str(folder),
            source={"origin": source.origin},
        )
        self.queue.add_run(run, jobs)
        return PreparedRun(run, jobs, self.engine)

    async def resume(self) -> PreparedRun:
        run = self.queue.latest_unfinished_run()
        if run is None:
            raise InputError(f"nothing to resume: no unfinished run in {self.queue.path}")
        Path(run.folder).mkdir(parents=True, exist_ok=True)
        return PreparedRun(run, self.queue.jobs(run.id), self.engine)

    async def check_against_nodes(self, settings: PipelineSettings) -> None:
        for handle in self.pool.handles:
            catalog = await handle.catalog.get()
            check_names(settings, catalog, handle.name)

    def prompt_source(self, request: RunRequest) -> PromptSource:
        if request.pack and request.prompt:
            raise InputError("give a PACK or --prompt, not both")
        if request.prompt is not None:
            if not request.prompt.strip():
                raise InputError("--prompt is empty")
            return PromptSource(
                name=request.prompt,
                prompts=[PromptSpec(prompt=request.prompt, negative=request.negative or "")],
            )
        if request.pack:
            raise InputError(f"pack {request.pack!r} not found")
        if self.last_run.prompt:
            return PromptSource(
                name=self.last_run.prompt,
                prompts=[PromptSpec(prompt=self.last_run.prompt, negative=self.last_run.negative)],
                origin="last run",
            )
        raise InputError("nothing to run: give a PACK or --prompt TEXT")
