"""From "what the user asked for" to a planned run in the queue and an engine ready to run it.

The CLI and the TUI both start runs here, so settings merge, name checks and planning happen
one way only. A classic StableNew preset is a settings layer of its own; its randomization and
the pack's own are rewritten into templates here (`prompts.classic.rewrite`), and the config's
global negative goes with every job.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.errors import InputError
from stablenew_tui.learning.learned import load_beliefs
from stablenew_tui.learning.records import RECORDS_NAME, RecordWriter
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.cluster import NodePool
from stablenew_tui.pipeline.compare_grid import GRID_SOURCE, ComparisonGrid, plan_grid
from stablenew_tui.pipeline.engine import Engine, EngineOptions
from stablenew_tui.pipeline.events import EventStream
from stablenew_tui.pipeline.jobs import Job, PromptSpec, Run, choose_base_seed, plan_run
from stablenew_tui.pipeline.lastrun import LAST_RUN_NAME, load_last_run
from stablenew_tui.pipeline.loaded_weights import pin_loaded_weights
from stablenew_tui.pipeline.node_limits import check_plan
from stablenew_tui.pipeline.outputs import new_run_folder
from stablenew_tui.pipeline.prompt_plan import DEFAULT_MAX_PROMPTS, TemplateEntry, expand_entries
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.pipeline.refine import RefineRequest, plan_refine, refine_jobs, refine_stages
from stablenew_tui.pipeline.run_nodes import RUN_NODES, nodes_record, recorded_nodes
from stablenew_tui.pipeline.settings import (
    PipelineSettings,
    SettingsLayer,
    layer_problem,
    merge_settings,
)
from stablenew_tui.pipeline.validate import check_names
from stablenew_tui.pipeline.variants import fan_out
from stablenew_tui.prompts import (
    PackError,
    SamplingMode,
    SegmentLocks,
    WildcardLibrary,
    load_pack,
    pack_folders,
)
from stablenew_tui.prompts.classic.presets import load_preset
from stablenew_tui.prompts.classic.randomization import Randomization
from stablenew_tui.prompts.classic.rewrite import inline_wildcards, randomize
from stablenew_tui.prompts.classic.settings_file import ClassicSettings
from stablenew_tui.prompts.key_lines import SettingsOrigin
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
    preset: str | None = None  # a classic preset: a name in the preset folders, or a file
    # The base seed when the settings leave it random (-1), e.g. the one the TUI previewed
    # the prompt with. It is not a setting: the run keeps -1, so it is never remembered.
    random_seed: int | None = None
    grid: ComparisonGrid | None = None  # a comparison: one job per combination of its axes


@dataclass
class PreparedRun:
    run: Run
    jobs: list[Job]
    engine: Engine
    warnings: list[str] = field(default_factory=list)  # what the preset or pack could not get


@dataclass
class PromptSource:
    name: str
    entries: list[TemplateEntry]
    overrides: dict[str, Any] = field(default_factory=dict)
    origin: str = "prompt"
    randomization: Randomization = field(default_factory=Randomization)
    warnings: tuple[str, ...] = ()


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
        self.preset_folders = [folder.expanduser() for folder in config.paths.preset_folders]
        self.wildcards = WildcardLibrary(wildcard_folders(config.paths.wildcard_folders))
        options = options or EngineOptions()
        if options.ffmpeg is None and config.paths.ffmpeg is not None:
            options.ffmpeg = config.paths.ffmpeg.expanduser()
        self.engine = Engine(
            self.queue, self.pool, self.records, data_dir, events=events, options=options
        )

    async def aclose(self) -> None:
        await self.engine.wind_down()  # its leases given back while the queue is open
        await self.pool.aclose()
        self.queue.close()

    def settings_layers(
        self,
        overrides: dict[str, Any],
        flags: dict[str, Any],
        pack_name: str | None = None,
        preset: ClassicSettings | None = None,
    ) -> list[SettingsLayer]:
        """The merge layers, lowest first: defaults < config < last run < preset < pack <
        flags."""
        config_stages = self.config.stages.model_dump()
        return [
            ("built-in defaults", {}),
            (f"config [stages] ({self.app_paths.config_file})", config_stages),
            (f"last run ({self.app_paths.data_dir / LAST_RUN_NAME})", self.last_run.settings),
            *([(f"preset {preset.path}", preset.table)] if preset else []),
            (f"pack {pack_name}", overrides),
            ("command line", flags),
        ]

    def preset(self, name_or_file: str | None) -> ClassicSettings | None:
        """The classic preset a run asks for, its values checked where their lines are known."""
        if name_or_file is None:
            return None
        preset = load_preset(name_or_file, self.preset_folders)
        _check_layer(preset.table, preset.origins, preset.path, InputError)
        return preset

    async def prepare(self, request: RunRequest) -> PreparedRun:
        if request.max_prompts < 1:
            raise InputError(f"--max-prompts must be 1 or more, not {request.max_prompts}")
        preset = self.preset(request.preset)
        source = self.prompt_source(request, preset)
        layers = self.settings_layers(source.overrides, request.flags, source.name, preset)
        settings = merge_settings(*layers)
        if not settings.enabled("txt2img"):
            raise InputError(
                "stages: a run from prompts starts with txt2img "
                "(`stablenew refine IMAGE…` sends existing images through img2img or upscale)"
            )
        if request.locks and len(source.entries) > 1:
            raise InputError("locks apply to one template, not to a pack of several")
        base_seed = choose_base_seed(settings, drawn=request.random_seed)
        beliefs = None
        if request.mode is SamplingMode.LEARNED:  # what the ratings so far say
            beliefs = await asyncio.to_thread(load_beliefs, self.app_paths.data_dir)
        randomization = source.randomization
        if preset is not None:
            randomization = randomization.over(preset.randomization)
        job_prompts = expand_entries(
            randomized_entries(source.entries, randomization),
            images_per_prompt=settings.images_per_prompt,
            base_seed=base_seed,
            wildcards=self.wildcards.with_inline(inline_wildcards(randomization)),
            mode=request.mode,
            locks=request.locks,
            prompt_seed=request.prompt_seed,
            max_prompts=request.max_prompts,
            beliefs=beliefs,
        )
        self._give_global_negative([spec for _, spec in job_prompts])
        if request.grid is None:
            planned = fan_out(job_prompts, settings)
        else:
            await request.grid.check_values(settings, self.check_against_nodes)
            planned = plan_grid(job_prompts, settings, request.grid, base_seed)
        specs = [spec for _, spec in planned.job_prompts]
        unnamed = await pin_loaded_weights(self.pool.handles, specs)
        await self.check_against_nodes(settings, specs)
        run, jobs = plan_run(
            planned.job_prompts,
            settings,
            base_seed=base_seed,
            name=source.name,
            folder=self._folder(request, source.name),
            source={
                "origin": source.origin,
                "mode": request.mode.value,
                **({"preset": str(preset.path)} if preset else {}),
                **({GRID_SOURCE: request.grid.describe()} if request.grid else {}),
                RUN_NODES: nodes_record(self.pool.nodes),
            },
            image_numbers=planned.image_numbers,
        )
        warnings = [*(preset.warnings if preset else ()), *source.warnings, *unnamed]
        return self._add(run, jobs, warnings)

    async def prepare_refine(self, request: RefineRequest) -> PreparedRun:
        """A run that sends existing images through img2img and/or upscale."""
        stages = refine_stages(request.stages)
        planned = await asyncio.to_thread(refine_jobs, request)  # reads every image
        settings = merge_settings(*self.settings_layers({}, {**request.flags, "stages": stages}))
        specs = [spec for _, spec in planned]
        self._give_global_negative(specs)
        unnamed = await pin_loaded_weights(self.pool.handles, specs)
        await self.check_against_nodes(settings, specs)
        name = f"refine {planned[0][1].prompt}"
        run, jobs = plan_refine(
            planned, settings, name=name, folder=self._folder(request, name),
            source={"origin": "refine", "images": request.images,
                    RUN_NODES: nodes_record(self.pool.nodes)},
        )  # fmt: skip
        return self._add(run, jobs, unnamed)

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
                source={"origin": f"again {job.id}", RUN_NODES: nodes_record(self.pool.nodes)},
            )
        )  # fmt: skip

    def _give_global_negative(self, specs: list[PromptSpec]) -> None:
        """Every job carries the global negative of now; each stage's switch says where it goes
        (a refined image's own negative is its prompt's, without the one it was made with)."""
        global_negative = self.config.prompts.global_negative_text()
        for spec in specs:
            spec.global_negative = global_negative

    def _folder(self, request: RunRequest | RefineRequest, name: str) -> str:
        output_root = (request.output_root or self.config.output_root(self.app_paths)).expanduser()
        return str(new_run_folder(output_root, name, time.time()))

    def _add(self, run: Run, jobs: list[Job], warnings: list[str] | None = None) -> PreparedRun:
        self.queue.add_run(run, jobs)
        return PreparedRun(run, jobs, self.engine, warnings or [])

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

    async def use_nodes_of(self, run: Run) -> str | None:
        """Make `run` on the nodes it was started with (for a caller that names none); what
        to tell the user, None when the run does not say which."""
        nodes = recorded_nodes(run)
        if not nodes:
            return None
        await self.pool.use(nodes)
        urls = ", ".join(node.url for node in nodes)
        return f"resuming run {run.id} where it was started: {urls} (--node to use others)"

    async def check_against_nodes(
        self, settings: PipelineSettings, specs: list[PromptSpec]
    ) -> None:
        for handle in self.pool.handles:
            catalog = await handle.catalog.get()
            check_names(settings, catalog, handle.name, specs)
        check_plan(settings, specs, self.pool.nodes)

    def prompt_source(
        self, request: RunRequest, preset: ClassicSettings | None = None
    ) -> PromptSource:
        if request.pack and request.prompt is not None:
            raise InputError("give a PACK or --prompt, not both")
        preset_negative = preset.negative if preset else ""
        if request.prompt is not None:
            if not request.prompt.strip():
                raise InputError("--prompt is empty")
            entry = TemplateEntry(request.prompt, request.negative or preset_negative)
            return PromptSource(name=request.prompt, entries=[entry])
        if request.pack:
            pack = load_pack(request.pack, self.pack_folders)
            settings_file = pack.settings_file or pack.path
            _check_layer(dict(pack.overrides), pack.override_origins, settings_file, PackError)
            entries = [
                TemplateEntry(item.prompt,
                              request.negative or pack.negative_for(item, preset_negative),
                              str(pack.path), item.line, item.model, item.vae)
                for item in pack.prompts
            ]  # fmt: skip
            return PromptSource(
                pack.name, entries, dict(pack.overrides), f"pack {pack.path}",
                pack.randomization, pack.warnings,
            )  # fmt: skip
        if self.last_run.prompt:
            entry = TemplateEntry(self.last_run.prompt, self.last_run.negative)
            return PromptSource(name=self.last_run.prompt, entries=[entry], origin="last run")
        raise InputError("nothing to run: give a PACK or --prompt TEXT")


def randomized_entries(
    entries: list[TemplateEntry], randomization: Randomization
) -> list[TemplateEntry]:
    """The entries with the classic randomization written into their templates; a prompt
    whose matrix fans out is sampled combinatorially, up to the matrix's limit."""
    if not randomization:
        return entries
    rewritten = []
    for entry in entries:
        prompt = randomize(entry.text, randomization)
        rewritten.append(TemplateEntry(
            prompt.text, entry.negative, entry.source, entry.line, entry.model, entry.vae,
            mode=SamplingMode.COMBINATORIAL if prompt.fan_out else None,
            max_prompts=prompt.limit or None,
        ))  # fmt: skip
    return rewritten


def _check_layer(
    table: dict[str, Any],
    origins: Mapping[tuple[str, ...], SettingsOrigin],
    path: Path,
    kind: type[InputError],
) -> None:
    """A file's settings that are wrong whatever else is set, named at the key and line
    the file wrote them."""
    problem = layer_problem(table)
    if problem is None:
        return
    location, message = problem
    origin = next(
        (origins[location[:end]] for end in range(len(location), 0, -1)
         if location[:end] in origins),
        None,
    )  # fmt: skip
    key = origin.key if origin else ".".join(str(part) for part in location)
    raise kind(f"{key}: {message}", source=str(path), line=origin.line if origin else None)
