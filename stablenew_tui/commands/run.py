"""`stablenew run`: a whole batch without the TUI, for scripts and tmux panes.

Exit codes: 0 all done, 1 some images failed or were left queued (a node given up, a full
disk), 2 bad input, 75 the run is being made by another live process (`--resume` without
`--wait`, or it took the run over while this one was stalled), 130 stopped with Ctrl-C (once:
finish the current image and stop; twice: interrupt it too).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from stablenew_tui.commands.common import (
    add_node_arguments,
    add_preset_argument,
    add_sampling_arguments,
    open_session,
)
from stablenew_tui.commands.exit_codes import EXIT_BUSY, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from stablenew_tui.commands.run_reporters import (
    JsonReporter,
    PlainReporter,
    Reporter,
    TerminalReporter,
)
from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.events import Event
from stablenew_tui.pipeline.holders import RunBusy
from stablenew_tui.pipeline.jobs import Run
from stablenew_tui.pipeline.launch import RunLauncher, RunRequest
from stablenew_tui.pipeline.local_failures import RESUME, local_writes_described
from stablenew_tui.pipeline.prompt_plan import DEFAULT_MAX_PROMPTS
from stablenew_tui.pipeline.settings import STAGE_ORDER
from stablenew_tui.prompts import SamplingMode
from stablenew_tui.prompts.locks import locks_from_flags
from stablenew_tui.services.control import RunControl


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        description="Run a batch without the TUI. Settings merge in this order, later wins: "
        "built-in defaults < config [stages] < last run < --preset < pack settings < these "
        "flags.",
    )
    parser.add_argument(
        "pack", nargs="?", metavar="PACK", help="prompt pack: a file, or a name in the pack folders"
    )
    parser.add_argument("--prompt", help="prompt or template text ({a|b}, __wildcards__, …)")
    parser.add_argument("--negative", help="negative prompt")
    add_preset_argument(parser)
    add_node_arguments(parser)
    parser.add_argument("--images-per-prompt", type=int, metavar="N")
    parser.add_argument("--seed", type=int, metavar="S", help="base seed; -1 for random")
    parser.add_argument(
        "--stages", metavar="LIST", help="e.g. txt2img,img2img,upscale (or adetailer, video)"
    )
    parser.add_argument(
        "--model", action="append", metavar="M",
        help="checkpoint title, name or hash; repeat it to make every image on each",
    )  # fmt: skip
    parser.add_argument(
        "--vae", action="append", metavar="V", help="VAE; repeat it to make every image with each"
    )
    parser.add_argument(
        "--hypernetwork", action="append", metavar="NAME[:STRENGTH]",
        help='hypernetwork (strength 1 unless given; "None" for none); repeat it to vary over each',
    )  # fmt: skip
    parser.add_argument(
        "--variants", choices=["fanout", "rotate"],
        help="with several models, VAEs or hypernetworks: every image on each combination "
        "(fanout, the default) or each prompt on the next one (rotate)",
    )  # fmt: skip
    parser.add_argument("--sampler", metavar="S")
    parser.add_argument("--scheduler", metavar="S")
    parser.add_argument("--steps", type=int, metavar="N")
    parser.add_argument("--cfg", type=float, metavar="X", help="CFG scale")
    parser.add_argument("--size", metavar="WxH", help="image size, e.g. 512x768")
    parser.add_argument("--denoise", type=float, metavar="X", help="img2img denoising strength")
    parser.add_argument("--upscaler", metavar="U")
    parser.add_argument("--scale", type=float, metavar="X", help="upscale factor")
    add_sampling_arguments(parser)
    parser.add_argument(
        "--prompt-seed", type=int, metavar="S",
        help="draw prompts from S, S+1, … instead of each image's own seed",
    )  # fmt: skip
    parser.add_argument(
        "--max-prompts", type=int, default=DEFAULT_MAX_PROMPTS, metavar="N",
        help=f"combinatorial mode: at most N prompts per template (default {DEFAULT_MAX_PROMPTS})",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, metavar="DIR", help="output root for this run")
    parser.add_argument(
        "--resume", nargs="?", const="", metavar="RUN",
        help="continue a run: RUN is its id or folder (`stablenew runs` lists them); "
        "default: the last one with images left to make",
    )  # fmt: skip
    parser.add_argument(
        "--retry-failed", action="store_true",
        help="with --resume: queue the run's failed images again (default run: the last one "
        "with images failed or left to make)",
    )  # fmt: skip
    parser.add_argument(
        "--wait", action="store_true",
        help="with --resume: if another process is making the run, wait for it to end",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="NDJSON events on stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    flags = settings_from_flags(args)
    for flag, given in (("--wait", args.wait), ("--retry-failed", args.retry_failed)):
        if given and args.resume is None:
            raise InputError(f"{flag} goes with --resume")
    if args.resume is not None and (planning := _planning_given(args)):
        raise InputError(
            f"--resume makes the run as it was planned: {', '.join(planning)} cannot go with it"
        )
    reporter = reporter_for(args)
    async with open_session(args) as session:
        data_dir = session.app_paths.data_dir
        again = RESUME if args.resume is not None else "run it again"
        with local_writes_described(data_dir, again):  # the queue file
            launcher = RunLauncher(session.config, session.app_paths, session.nodes)
        control = RunControl(launcher)
        try:
            for warning in launcher.warnings:
                reporter.note(warning)
            with local_writes_described(data_dir, again):  # the queue, a new run's folder
                run = await _planned_run(args, flags, control, reporter, session.nodes_by_default)
            return await execute_run(control, run, reporter, wait=args.wait)
        finally:
            reporter.close()
            await launcher.aclose()


async def _planned_run(
    args: argparse.Namespace,
    flags: dict[str, Any],
    control: RunControl,
    reporter: Reporter,
    nodes_by_default: bool,
) -> Run:
    """The run to make: the one to resume (on the nodes it was started with, unless some
    were named), or a new one planned into the queue."""
    if args.resume is not None:
        prepared = await control.unfinished_run(args.resume or None, retry_failed=args.retry_failed)
        if nodes_by_default:
            where = await control.launcher.use_nodes_of(prepared.run)
            if where:
                reporter.note(where)
        return prepared.run
    launcher = control.launcher
    request = RunRequest(
        pack=args.pack,
        prompt=args.prompt,
        negative=args.negative,
        flags=flags,
        mode=SamplingMode(args.mode),
        locks=locks_from_flags(args.lock, args.pin),
        prompt_seed=args.prompt_seed,
        max_prompts=args.max_prompts,
        output_root=args.out,
        preset=args.preset,
    )
    prepared = await launcher.prepare(request)
    for warning in prepared.warnings:
        reporter.note(f"warning: {warning}")
    remembered = _remembered_seed(launcher, prepared.run, args.seed)
    if remembered is not None:
        reporter.note(
            f"seed {remembered}, remembered from the last run; --seed -1 draws a random one"
        )
    return prepared.run


def _remembered_seed(launcher: RunLauncher, run: Run, flag: int | None) -> int | None:
    """The fixed seed this run took from the last run without a --seed: the same seed
    makes the same images, so the user should know."""
    remembered = launcher.last_run.settings.get("txt2img", {}).get("seed", -1)
    if flag is not None or remembered in (-1, None):
        return None
    return remembered if run.settings.txt2img.seed == remembered else None


async def execute_run(control: RunControl, run: Run, reporter: Reporter, *, wait: bool) -> int:
    events = control.launcher.engine.events
    ctrl_c = 0

    def on_interrupt() -> None:
        nonlocal ctrl_c
        ctrl_c += 1
        if ctrl_c == 1:
            reporter.note("stopping after the current image (Ctrl-C again to interrupt it)")
            control.stop_after_current()
        else:
            reporter.note("interrupting the current image")
            asyncio.get_running_loop().create_task(control.interrupt())

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, on_interrupt)
    printer = asyncio.create_task(_print_events(events.subscribe_queue(), reporter))
    try:
        summary = await control.run(run, wait=wait)
    except RunBusy as busy:
        if ctrl_c:
            return EXIT_INTERRUPTED
        print(f"stablenew: {busy}; `stablenew run --resume --wait` waits for it", file=sys.stderr)
        return EXIT_BUSY
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        events.close()
        await printer
    if ctrl_c:
        return EXIT_INTERRUPTED
    if summary.taken_over_by:
        return EXIT_BUSY  # the run goes on in that process; the final event said so
    if summary.halted:
        print(f"stablenew: {summary.halted}", file=sys.stderr)
        return EXIT_FAILED
    if summary.failed or summary.unfinished:
        if summary.unfinished:
            reporter.note(f"{summary.unfinished} image(s) still queued: `stablenew run --resume`")
        return EXIT_FAILED
    return EXIT_OK


async def _print_events(queue: asyncio.Queue[Event | None], reporter: Reporter) -> None:
    while (event := await queue.get()) is not None:
        reporter.show(event)


def reporter_for(args: argparse.Namespace) -> Reporter:
    if args.json:
        return JsonReporter()
    return TerminalReporter() if sys.stdout.isatty() else PlainReporter()


# What plans a new run; a resumed one is made as it was planned.
_PLANNING = (
    "pack", "prompt", "negative", "preset", "images_per_prompt", "seed", "stages", "model",
    "vae", "hypernetwork", "variants", "sampler", "scheduler", "steps", "cfg", "size",
    "denoise", "upscaler", "scale", "lock", "pin", "prompt_seed", "out",
)  # fmt: skip


def _planning_given(args: argparse.Namespace) -> list[str]:
    """The options that plan a run which were given, as they are written."""
    given = [name for name in _PLANNING if getattr(args, name) not in (None, [])]
    given += ["mode"] * (args.mode != SamplingMode.RANDOM)
    given += ["max_prompts"] * (args.max_prompts != DEFAULT_MAX_PROMPTS)
    return ["PACK" if name == "pack" else "--" + name.replace("_", "-") for name in given]


def settings_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The explicit flags as a partial settings table: the last, strongest merge layer."""
    table: dict[str, Any] = {}

    def put(path: str, value: Any) -> None:
        if value is None:
            return
        *parents, leaf = path.split(".")
        node = table
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value

    put("images_per_prompt", args.images_per_prompt)
    put("txt2img.seed", args.seed)
    put("txt2img.model", args.model)
    put("txt2img.vae", args.vae)
    put("txt2img.sampler", args.sampler)
    put("txt2img.scheduler", args.scheduler)
    put("txt2img.steps", args.steps)
    put("txt2img.cfg_scale", args.cfg)
    put("img2img.denoising_strength", args.denoise)
    put("upscale.upscaler", args.upscaler)
    put("upscale.scale", args.scale)
    put("variants.mode", args.variants)
    if args.hypernetwork:
        put("variants.hypernetworks", [parse_hypernetwork(text) for text in args.hypernetwork])
    if args.size:
        width, height = parse_size(args.size)
        put("txt2img.width", width)
        put("txt2img.height", height)
    if args.stages:
        put("stages", parse_stages(args.stages))
    return table


def parse_size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not sep or not width.strip().isdigit() or not height.strip().isdigit():
        raise InputError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 512x768")
    return int(width), int(height)


def parse_hypernetwork(text: str) -> dict[str, Any]:
    name, sep, strength = text.rpartition(":")
    if not sep:
        return {"name": text}
    try:
        return {"name": name, "strength": float(strength)}
    except ValueError:
        raise InputError(
            f"--hypernetwork {text!r}: expected NAME or NAME:STRENGTH, e.g. anime_3:0.8"
        ) from None


def parse_stages(text: str) -> list[str]:
    stages = [stage.strip() for stage in text.split(",") if stage.strip()]
    unknown = [stage for stage in stages if stage not in STAGE_ORDER]
    if unknown:
        raise InputError(
            f"--stages: unknown stage {unknown[0]!r}; choose from {', '.join(STAGE_ORDER)}"
        )
    return stages
