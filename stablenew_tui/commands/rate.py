"""`stablenew rate IMAGE… RATING`: rate finished images from a script, as the Results tab does.

The rating goes to the same ratings file under the same key as in the TUI: the image path as
its learning record spells it, with the record's job, run and stage; the run's summary.csv
shows it at once. Every image is checked
before any rating is written, so a typo never leaves half a batch rated.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stablenew_tui.errors import InputError
from stablenew_tui.learning.ratings import RATINGS_NAME, RatingStore
from stablenew_tui.learning.record_scan import records_of_images
from stablenew_tui.learning.records import RECORDS_NAME
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.summary import rate_image


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rate",
        description="Rate images that stablenew made, 1 (worst) to 5 (best); 0 clears the "
        "rating. Ratings feed `stablenew learn report`, the ★ favourites and --mode learned.",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="an image file of a run")
    parser.add_argument("rating", metavar="RATING", help="1 to 5, or 0 to clear")
    parser.set_defaults(func=rate)


def rate(args: argparse.Namespace) -> int:
    rating = parse_rating(args.rating)
    data_dir = AppPaths.from_environment().data_dir
    images = [Path(image) for image in args.images]
    known = records_of_images(data_dir / RECORDS_NAME, images)
    chosen = []
    for image in images:
        match = known.get(image.expanduser().resolve())
        if match is None:
            raise InputError(_unknown(image, data_dir / RECORDS_NAME))
        chosen.append(match)
    store = RatingStore(data_dir / RATINGS_NAME)
    for path, record in chosen:
        warning = rate_image(
            store, path, rating, job_id=record.get("job_id"), run_id=record.get("run_id"),
            stage=record.get("stage"),
        )  # fmt: skip
        print(f"rated {rating}: {path}" if rating else f"rating cleared: {path}")
        if warning:
            print(f"stablenew: warning: {warning}", file=sys.stderr)
    return 0


def parse_rating(text: str) -> int | None:
    """1–5 as given; 0 means no rating (None)."""
    if not text.strip().isdigit() or not 0 <= int(text) <= 5:
        raise InputError(f"RATING must be 1 to 5, or 0 to clear; got {text!r}")
    return int(text) or None


def _unknown(image: Path, records: Path) -> str:
    if not image.expanduser().exists():
        return f"{image}: no such file"
    return f"{image}: not an image stablenew made (no learning record in {records} names it)"
