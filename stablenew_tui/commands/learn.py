"""`stablenew learn report`: which settings and prompt choices the user rates higher."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from stablenew_tui.commands.pick_lines import pick_lines, picks_as_json
from stablenew_tui.errors import InputError
from stablenew_tui.learning.factors import PROMPT
from stablenew_tui.learning.pick_report import ENOUGH_PICKS, load_pick_rankings
from stablenew_tui.learning.rated_images import load_rated_images
from stablenew_tui.learning.report import FactorReport, LearnReport, build_report
from stablenew_tui.learning.stats import ENOUGH_RATINGS
from stablenew_tui.paths import AppPaths

WIDTH = 80
VALUE_WIDTH = 26

_REPORT_HELP = f"""\
For every factor (each stage's checkpoint, VAE, sampler, scheduler, CFG band, steps band,
size, hires fix, denoising band, upscaler, and each randomized segment of each template), the
rated images made with each option: their number, mean rating, the mean shrunk toward the
overall mean (empirical Bayes, prior strength estimated from your ratings), its 80 % interval,
and the share of keepers (rated 4 or 5) with its 80 % Wilson lower bound. Options with fewer
than {ENOUGH_RATINGS} ratings are marked "few". Factors come most important first: by the spread
of their options' shrunk means, weighted by how many ratings each option has. The first lines
say how much better the shrunk means predict each of your ratings from the others than the
plain means do.

Comparison grids (`stablenew compare`) whose images were picked pairwise in the TUI's pick
mode follow, once a grid has at least {ENOUGH_PICKS} picks and one per image picked from: a
Bradley–Terry ranking of its images and of each axis's values, strengths on a log-odds scale
(a difference of 1 means preferred about 73 % of the time), with 80 % intervals from the
fit's curvature, pulled toward 0 by a weak prior so that a few picks never claim certainty."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("learn", description="Learn from your ratings.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    parser.set_defaults(func=lambda args: parser.print_help() or 0)
    report = commands.add_parser(
        "report",
        help="which settings and prompt choices you rate higher",
        description=_REPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("--json", action="store_true", help="the report as one JSON object")
    report.add_argument("--template", metavar="TEXT", help="only images drawn from this template")
    report.add_argument(
        "--since", metavar="DATE",
        help="only images made since DATE (2026-11-30, or 2026-11-30T18:00 local time)",
    )  # fmt: skip
    report.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    since = parse_since(args.since) if args.since is not None else None
    data_dir = AppPaths.from_environment().data_dir
    rated = load_rated_images(data_dir, since=since, template=args.template)
    report = build_report(rated.images, unmatched=rated.unmatched, problems=rated.problems)
    picks = load_pick_rankings(data_dir, since=since, template=args.template)
    if args.json:
        print(json.dumps({**report_as_json(report), **picks_as_json(picks)}, ensure_ascii=False))
    else:
        print("\n".join([*report_lines(report), *pick_lines(picks)]))
    return 0


def parse_since(text: str) -> float:
    """A date or date and time (local time unless it says otherwise) as a Unix time."""
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise InputError(
            f"--since {text!r}: expected a date like 2026-11-30 or 2026-11-30T18:00"
        ) from None


def report_lines(report: LearnReport) -> list[str]:
    lines = [f"note: {problem}" for problem in report.problems]
    if report.unmatched:
        lines.append(f"note: {report.unmatched} rating(s) of images no learning record names")
    if not report.rated_images:
        lines.append("no rated images: rate images in the Results tab or with `stablenew rate`")
        return lines
    loo = report.loo
    lines.append(
        f"{report.rated_images} rated images, mean {report.mean:.2f}; factors most important first"
    )
    if loo.predictions:
        gain = 1 - loo.shrunk_rmse / loo.raw_rmse if loo.raw_rmse else 0.0
        change = f"{abs(gain):.1%} {'less' if gain >= 0 else 'more'} error"
        lines += [
            "leave-one-out: predicting each rating from the others, shrunk means miss by",
            f"{loo.shrunk_rmse:.3f} (RMSE), raw means by {loo.raw_rmse:.3f}: {change} "
            f"({loo.predictions} predictions)",
        ]
    if not report.factors:
        lines.append("no factor has two options yet: vary a setting or a template to compare")
    for factor in report.factors:
        lines.extend(["", *_factor_lines(factor)])
    return lines


def _factor_lines(report: FactorReport) -> list[str]:
    factor, pooling = report.factor, report.pooling
    title = factor.label
    if factor.stage == PROMPT:
        title += f" of {json.dumps(factor.template, ensure_ascii=False)}"
    evidence = (
        "no clear difference between options"
        if pooling.between_floored
        else f"the mean counts as {pooling.prior_strength:.1f} ratings"
    )
    lines = [
        _clip(title, WIDTH),
        f"  matters {report.importance:.2f}★ · {evidence}",
        f"  {'option':<{VALUE_WIDTH}} {'n':>5} {'mean':>5} {'shrunk':>6}  {'80% range':<9}"
        f"  {'keep':>4} {'(low)':>6}",
    ]
    for option in report.options:
        e = option.estimate
        lines.append(
            f"  {_clip(option.value, VALUE_WIDTH):<{VALUE_WIDTH}} {e.count:>5} {e.mean:>5.2f} "
            f"{e.shrunk:>6.2f}  {e.low:.2f}–{e.high:.2f}  {e.keeper_share:>4.0%} "
            f"({e.keeper_low:>3.0%})" + ("" if e.enough else "  few")
        )
    return lines


def _clip(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def report_as_json(report: LearnReport) -> dict[str, Any]:
    loo = report.loo
    return {
        "rated_images": report.rated_images,
        "mean": report.mean,
        "unmatched_ratings": report.unmatched,
        "problems": report.problems,
        "leave_one_out": {
            "predictions": loo.predictions,
            "raw_rmse": loo.raw_rmse,
            "shrunk_rmse": loo.shrunk_rmse,
        },
        "factors": [_factor_json(factor) for factor in report.factors],
    }


def _factor_json(report: FactorReport) -> dict[str, Any]:
    factor, pooling = report.factor, report.pooling
    described: dict[str, Any] = {"factor": factor.label, "stage": factor.stage}
    if factor.stage == PROMPT:
        described.update(
            template=factor.template, segment=int(factor.setting), source=factor.source
        )
    else:
        described["setting"] = factor.setting
    return {
        **described,
        "importance": report.importance,
        "prior_strength": pooling.prior_strength,
        "within_variance": pooling.within_variance,
        "between_variance": pooling.between_variance,
        "clear_difference": not pooling.between_floored,
        "options": [
            {
                "value": option.value,
                "setting": option.setting,
                "count": option.estimate.count,
                "mean": option.estimate.mean,
                "shrunk_mean": option.estimate.shrunk,
                "interval_80": [option.estimate.low, option.estimate.high],
                "keepers": option.estimate.keepers,
                "keeper_share": option.estimate.keeper_share,
                "keeper_share_low": option.estimate.keeper_low,
                "enough_evidence": option.estimate.enough,
            }
            for option in report.options
        ],
    }
