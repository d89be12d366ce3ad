"""From "what the user asked for" to a planned run in the queue and an engine ready to run it.

The CLI and the TUI both start runs here, so settings merge, name checks and planning happen
one way only.
"""

from __future__ import annotations

import asyncio
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
from stablenew_tui.pipeline.refine import RefineRequest, plan_refine, refine_jobs, refine_stages
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
        if not settings.enabled("txt2img"):
            raise InputError(
                "stages: a run from prompts starts with txt2img "
                "(`stablenew refine IMAGE…` sends existing images through img2img or upscale)"
            )
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
        run, jobs = plan_run(
            job_prompts,
            settings,
            base_seed=base_seed,
            name=source.name,
            folder=self._folder(request, source.name),
            source={"origin": source.origin, "mode": request.mode.value},
        )
        return self._add(run, jobs)

    async def prepare_refine(self, request: RefineRequest) -> PreparedRun:
        """A run that sends existing images through img2img and/or upscale."""
        stages = refine_stages(request.stages)
        planned = await asyncio.to_thread(refine_jobs, request)  # reads every image
        settings = merge_settings(*self.settings_layers({}, {**request.flags, "stages": stages}))
        await self.check_against_nodes(settings)
        name = f"refine {planned[0][1].prompt}"
        return self._add(
            *plan_refine(
                planned, settings, name=name, folder=self._folder(request, name),
                source={"origin": "refine", "images": request.images},
            )
        )  # fmt: skip

    async def prepare_again(self, job_id: str, seed: int) -> PreparedRun:
        """One job made again as it was, with the settings of its run and `seed`."""
        job = self.queue.job(job_id)
        run = self.queue.run(job.run_id) if job is not None else None
        if job is None or run is None:
            raise InputError(f"job {job_id} is no longer in {self.queue.path}")
        name = job.spec.prompt
        folder = self._folder(RunRequest(output_root=Path(run.folder).parent), name)
        return self._add(
            *plan_run(
                [(0, job.spec)], run.settings, base_seed=seed, name=name, folder=folder,
                source={"origin": f"again {job.id}"},
            )
        )  # fmt: skip

    def _folder(self, request: RunRequest | RefineRequest, name: str) -> str:
        output_root = (request.output_root or self.config.output_root(self.app_paths)).expanduser()
        return str(new_run_folder(output_root, name, time.time()))

    def _add(self, run: Run, jobs: list[Job]) -> PreparedRun:
        self.queue.add_run(run, jobs)
        return PreparedRun(run, jobs, self.engine)

    async def resume(self, run_id: str | None = None) -> PreparedRun:
        """The run `run_id`, or the last one with images still to make."""
        run = self.queue.run(run_id) if run_id else self.queue.latest_unfinished_run()
        if run is None:
            wanted = f"no run {run_id}" if run_id else "no unfinished run"
            raise InputError(f"nothing to resume: {wanted} in {self.queue.path}")
        Path(run.folder).mkdir(parents=True, exist_ok=True)
        return PreparedRun(run, self.queue.jobs(run.id), self.engine)

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
