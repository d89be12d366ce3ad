"""`stablenew compare`: one prompt and seed made with every combination of a few settings,
and a labelled contact sheet of the results.

    stablenew compare --prompt "a fox" --axis model=A,B --axis sampler="Euler a,DPM++ 2M" \\
        --axis cfg=5,7 --seed 42

The first axis is the sheet's columns, the second its rows, a third gives one sheet per value
(`pipeline.contact_sheet`). The images are made as one run through the normal engine, so
they are rated, resumed and summarised like any other. Exit codes as `stablenew run`; the
sheets are written however the run ended, a missing image as a crossed-out tile, and
`--sheet [RUN]` draws them again once `stablenew run --resume` has made the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from stablenew_tui.commands.common import add_node_arguments, add_preset_argument, open_session
from stablenew_tui.commands.exit_codes import EXIT_BUSY, EXIT_FAILED, EXIT_OK
from stablenew_tui.commands.run import execute_run, reporter_for, settings_from_flags
from stablenew_tui.errors import InputError
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.compare_grid import AXIS_NAMES, ComparisonGrid
from stablenew_tui.pipeline.contact_sheet import comparison_run, run_sheets
from stablenew_tui.pipeline.launch import QUEUE_NAME, RunLauncher, RunRequest
from stablenew_tui.pipeline.local_failures import local_writes_described
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.services.control import RunControl


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        description="Make one prompt with the same seed over every combination of the axes' "
        "values, then draw a labelled contact sheet: the first axis is the columns, the "
        "second the rows, a third gives one sheet per value. Other settings merge as for "
        "`stablenew run`.",
    )
    parser.add_argument("--prompt", help="prompt or template (drawn once)")
    parser.add_argument(
        "--axis", action="append", default=[], metavar="NAME=V1,V2",
        help=f"an axis and its values (1 to 3 of them); NAME is one of {', '.join(AXIS_NAMES)}",
    )  # fmt: skip
    parser.add_argument("--negative", help="negative prompt")
    add_preset_argument(parser)
    add_node_arguments(parser)
    parser.add_argument("--seed", type=int, metavar="S", help="the seed of every cell; -1 random")
    parser.add_argument("--stages", metavar="LIST", help="e.g. txt2img,img2img")
    parser.add_argument("--model", metavar="M", help="checkpoint, when it is not an axis")
    parser.add_argument("--vae", metavar="V", help="VAE, when it is not an axis")
    parser.add_argument("--sampler", metavar="S")
    parser.add_argument("--scheduler", metavar="S")
    parser.add_argument("--steps", type=int, metavar="N")
    parser.add_argument("--cfg", type=float, metavar="X", help="CFG scale")
    parser.add_argument("--size", metavar="WxH", help="image size, e.g. 512x768")
    parser.add_argument("--denoise", type=float, metavar="X", help="img2img denoising strength")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output root for this run")
    parser.add_argument("--json", action="store_true", help="NDJSON events on stdout")
    parser.add_argument(
        "--sheet", nargs="?", const="", metavar="RUN",
        help="only draw the contact sheets of a comparison again (say, after `stablenew run "
        "--resume` finished it): RUN is its id or folder, by default the newest",
    )  # fmt: skip
    # What `stablenew run` would read and a comparison fixes: one image per cell.
    parser.set_defaults(
        func=compare, images_per_prompt=1, hypernetwork=None, variants=None, upscaler=None,
        scale=None,
    )  # fmt: skip


def compare(args: argparse.Namespace) -> int:
    if args.sheet is not None:
        return _sheets_again(args)
    if args.prompt is None:
        raise InputError("--prompt: give the prompt to compare (or --sheet to draw a sheet again)")
    return asyncio.run(_compare(args))


def _sheets_again(args: argparse.Namespace) -> int:
    if args.prompt is not None or args.axis:
        raise InputError("--sheet draws an existing comparison: it takes no --prompt or --axis")
    app_paths = AppPaths.from_environment()
    queue = JobQueue(app_paths.data_dir / QUEUE_NAME)
    try:
        run = comparison_run(queue, args.sheet or None)
        jobs = queue.jobs(run.id)
    finally:
        queue.close()
    with local_writes_described(app_paths.data_dir, "draw the sheet again"):
        sheets = run_sheets(run, jobs)
    _print_sheets(sheets, as_json=args.json)
    return EXIT_OK if all(job.status == "done" for job in jobs) else EXIT_FAILED


async def _compare(args: argparse.Namespace) -> int:
    grid = ComparisonGrid.parse(args.axis)
    flags = settings_from_flags(args)
    reporter = reporter_for(args)
    async with open_session(args) as session:
        data_dir = session.app_paths.data_dir
        again = "run the comparison again"
        with local_writes_described(data_dir, again):  # the queue file
            launcher = RunLauncher(session.config, session.app_paths, session.nodes)
        control = RunControl(launcher)
        try:
            for warning in launcher.warnings:
                reporter.note(warning)
            request = RunRequest(
                prompt=args.prompt, negative=args.negative, flags=flags,
                output_root=args.out, preset=args.preset, grid=grid,
            )  # fmt: skip
            with local_writes_described(data_dir, again):  # the queue, the run's folder
                prepared = await launcher.prepare(request)
            for warning in prepared.warnings:
                reporter.note(f"warning: {warning}")
            run = prepared.run
            reporter.note(f"comparison of {len(prepared.jobs)} cells in {run.folder}")
            code = await execute_run(control, run, reporter, wait=False)
            if code == EXIT_BUSY:
                return code  # another process makes the run and its sheet
            jobs = launcher.queue.jobs(run.id)
            with local_writes_described(data_dir, again):
                sheets = await asyncio.to_thread(run_sheets, run, jobs)
        finally:
            reporter.close()
            await launcher.aclose()
    _print_sheets(sheets, as_json=args.json)
    return code


def _print_sheets(sheets: list[Path], *, as_json: bool) -> None:
    for path in sheets:
        print(json.dumps({"event": "contact_sheet", "path": str(path)}) if as_json
              else f"contact sheet: {path}")  # fmt: skip
