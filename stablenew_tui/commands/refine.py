"""`stablenew refine IMAGE… --stages img2img,upscale`: chosen images sent on through img2img
and/or upscale, as a run of their own.

Each image keeps its prompt, negative prompt and seed, read from its run's manifest line or
the infotext it carries (PNG, JPEG or WebP); the flags set what the new stages do. Exit codes
as for `stablenew run`; an image that is missing or not an image is bad input (2).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from stablenew_tui.commands.common import add_node_arguments, open_session
from stablenew_tui.commands.run import execute_run, reporter_for
from stablenew_tui.pipeline.launch import RunLauncher
from stablenew_tui.pipeline.refine import REFINE_STAGES, RefineRequest
from stablenew_tui.services.control import RunControl

# Flag → the setting it sets. The sampling flags name img2img's own settings: txt2img does
# not run here.
_FLAG_SETTINGS = {
    "denoise": ("img2img", "denoising_strength"),
    "model": ("img2img", "model"),
    "sampler": ("img2img", "sampler"),
    "scheduler": ("img2img", "scheduler"),
    "steps": ("img2img", "steps"),
    "cfg": ("img2img", "cfg_scale"),
    "vae": ("txt2img", "vae"),
    "upscaler": ("upscale", "upscaler"),
    "scale": ("upscale", "scale"),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "refine",
        description="Refine chosen images as a new run: each keeps its prompt, negative prompt "
        "and seed (from its run's manifest or its infotext); settings merge as for `run`, "
        "built-in defaults < config [stages] < last run < these flags.",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="PNG, JPEG or WebP files")
    parser.add_argument(
        "--stages", required=True, metavar="LIST",
        help=f"what to send them through: {', '.join(REFINE_STAGES)} or both, comma-separated",
    )  # fmt: skip
    add_node_arguments(parser)
    parser.add_argument("--prompt", help="use this prompt for every image instead of its own")
    parser.add_argument("--negative", help="use this negative prompt for every image")
    parser.add_argument(
        "--seed", type=int, metavar="S", help="use this seed for every image; -1 draws new ones"
    )
    parser.add_argument("--denoise", type=float, metavar="X", help="img2img denoising strength")
    parser.add_argument("--model", metavar="M", help="checkpoint for img2img")
    parser.add_argument("--vae", metavar="V")
    parser.add_argument("--sampler", metavar="S", help="img2img sampler")
    parser.add_argument("--scheduler", metavar="S", help="img2img scheduler")
    parser.add_argument("--steps", type=int, metavar="N", help="img2img steps")
    parser.add_argument("--cfg", type=float, metavar="X", help="img2img CFG scale")
    parser.add_argument("--upscaler", metavar="U")
    parser.add_argument("--scale", type=float, metavar="X", help="upscale factor")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output root for this run")
    parser.add_argument("--json", action="store_true", help="NDJSON events on stdout")
    parser.set_defaults(func=refine)


def refine(args: argparse.Namespace) -> int:
    return asyncio.run(_refine(args))


async def _refine(args: argparse.Namespace) -> int:
    request = RefineRequest(
        images=args.images,
        stages=[stage.strip() for stage in args.stages.split(",") if stage.strip()],
        flags=_settings_from_flags(args),
        prompt=args.prompt,
        negative=args.negative,
        seed=args.seed,
        output_root=args.out,
    )
    reporter = reporter_for(args)
    async with open_session(args) as session:
        launcher = RunLauncher(session.config, session.app_paths, session.nodes)
        try:
            for warning in launcher.warnings:
                reporter.note(warning)
            prepared = await launcher.prepare_refine(request)
            return await execute_run(RunControl(launcher), prepared.run, reporter, wait=False)
        finally:
            reporter.close()
            await launcher.aclose()


def _settings_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for flag, (section, key) in _FLAG_SETTINGS.items():
        value = getattr(args, flag)
        if value is not None:
            table.setdefault(section, {})[key] = value
    return table
