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
from stablenew_tui.pipeline.jobs import Job, Run, choose_base_seed, plan_run
from stablenew_tui.pipeline.lastrun import LAST_RUN_NAME, load_last_run
from stablenew_tui.pipeline.outputs import new_run_folder
from stablenew_tui.pipeline.prompt_plan import DEFAULT_MAX_PROMPTS, TemplateEntry, expand_entries
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.pipeline.settings import (
    PipelineSettings,
    SettingsLayer,
    layer_problem,
    merge_settings,
)
from stablenew_tui.pipeline.validate import check_names
from stablenew_tui.prompts import (
    Pack,
    PackError,
    SamplingMode,
    SegmentLocks,
    WildcardLibrary,
    load_pack,
    pack_folders,
)
from stablenew_tui.prompts.wildcards import wildcard_folders

QUEUE_NAME = "queue.sqlite3"


@dataclass
class RunRequest:
    pack: str | None = None
    prompt: str | None = None  # a template: plain text is a template without constructs
    negative: str | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    mode: SamplingMode = SamplingMode.RANDOM
    locks: SegmentLocks = field(default_factory=SegmentLocks)
    prompt_seed: int | None = None  # None: each prompt is drawn with its image's seed
    max_prompts: int = DEFAULT_MAX_PROMPTS  # combinatorial cap, per template
    output_root: Path | None = None
    # The base seed when the settings leave it random (-1), e.g. the one the TUI previewed
    # the prompt with. It is not a setting: the run keeps -1, so it is never remembered.
    random_seed: int | None = None


@dataclass
class PreparedRun:
    run: Run
    jobs: list[Job]
    engine: Engine


@dataclass
class PromptSource:
    name: str
    entries: list[TemplateEntry]
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
        self.queue = JobQueue(data_dir / QUEUE_NAME, lease_seconds=config.queue.lease_seconds)
        self.pool = NodePool(nodes, config.client, webui_root=config.paths.webui_root)
        self.records = RecordWriter(data_dir / RECORDS_NAME)
        self.last_run = load_last_run(data_dir / LAST_RUN_NAME)
        self.warnings = list(self.last_run.warnings)
        self.pack_folders = pack_folders(p.expanduser() for p in config.paths.pack_folders)
        self.wildcards = WildcardLibrary(wildcard_folders(config.paths.wildcard_folders))
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
        if request.max_prompts < 1:
            raise InputError(f"--max-prompts must be 1 or more, not {request.max_prompts}")
        source = self.prompt_source(request)
        layers = self.settings_layers(source.overrides, request.flags, source.name)
        settings = merge_settings(*layers)
        if request.locks and len(source.entries) > 1:
            raise InputError("locks apply to one template, not to a pack of several")
        base_seed = choose_base_seed(settings, drawn=request.random_seed)
        job_prompts = expand_entries(
            source.entries,
            images_per_prompt=settings.images_per_prompt,
            base_seed=base_seed,
            wildcards=self.wildcards,
            mode=request.mode,
            locks=request.locks,
            prompt_seed=request.prompt_seed,
            max_prompts=request.max_prompts,
        )
        await self.check_against_nodes(settings)
        output_root = (request.output_root or self.config.output_root(self.app_paths)).expanduser()
        folder = new_run_folder(output_root, source.name, time.time())
        run, jobs = plan_run(
            job_prompts,
            settings,
            base_seed=base_seed,
            name=source.name,
            folder=str(folder),
            source={"origin": source.origin, "mode": request.mode.value},
        )
        self.queue.add_run(run, jobs)
        return PreparedRun(run, jobs, self.engine)

    async def resume(self, ref: str | None = None, *, retry_failed: bool = False) -> PreparedRun:
        """The run `ref` names (its id or folder), else the last with images left to make (with
        `retry_failed`: or failed); with `retry_failed`, its failed images are queued again."""
        run = self._run_to_resume(ref, retry_failed)
        if retry_failed:
            self.queue.requeue_failed(run.id)
        counts = self.queue.counts(run.id)
        if not counts.get("queued") and not counts.get("running"):
            hint = (
                "; add --retry-failed to make its failed ones again" if counts.get("failed") else ""
            )
            raise InputError(f"nothing to resume: run {run.id} has no images left to make{hint}")
        Path(run.folder).mkdir(parents=True, exist_ok=True)
        return PreparedRun(run, self.queue.jobs(run.id), self.engine)

    def _run_to_resume(self, ref: str | None, retry_failed: bool) -> Run:
        if ref:
            named = self.queue.find_run(ref)
            if named is None:
                raise InputError(
                    f"no run {ref!r} in {self.queue.path}: give a run id or folder "
                    "(`stablenew runs` lists them)"
                )
            return named
        # Without one left to make, the last with failed images: its message says what to do.
        latest = self.queue.latest_unfinished_run
        run = latest(or_failed=retry_failed) or latest(or_failed=True)
        if run is None:
            raise InputError(f"nothing to resume: no run in {self.queue.path} has images to make")
        return run

    async def check_against_nodes(self, settings: PipelineSettings) -> None:
        for handle in self.pool.handles:
            catalog = await handle.catalog.get()
            check_names(settings, catalog, handle.name)

    def prompt_source(self, request: RunRequest) -> PromptSource:
        if request.pack and request.prompt is not None:
            raise InputError("give a PACK or --prompt, not both")
        if request.prompt is not None:
            if not request.prompt.strip():
                raise InputError("--prompt is empty")
            entry = TemplateEntry(request.prompt, request.negative or "")
            return PromptSource(name=request.prompt, entries=[entry])
        if request.pack:
            pack = load_pack(request.pack, self.pack_folders)
            _check_overrides(pack)
            entries = [
                TemplateEntry(item.prompt, request.negative or pack.negative_for(item),
                              str(pack.path), item.line)
                for item in pack.prompts
            ]  # fmt: skip
            overrides = dict(pack.overrides)
            return PromptSource(pack.name, entries, overrides, origin=f"pack {pack.path}")
        if self.last_run.prompt:
            entry = TemplateEntry(self.last_run.prompt, self.last_run.negative)
            return PromptSource(name=self.last_run.prompt, entries=[entry], origin="last run")
        raise InputError("nothing to run: give a PACK or --prompt TEXT")


def _check_overrides(pack: Pack) -> None:
    """A pack's settings that are wrong whatever else is set, named at their line."""
    problem = layer_problem(dict(pack.overrides))
    if problem is not None:
        location, message = problem
        key = ".".join(str(part) for part in location)
        line = pack.override_lines.get(location[:2])
        raise PackError(f"overrides.{key}: {message}", source=str(pack.path), line=line)
