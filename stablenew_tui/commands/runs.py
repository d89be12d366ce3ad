"""`stablenew runs`: every run in the queue, its images counted by status, and its folder.

What `stablenew run --resume RUN [--retry-failed]` takes: a run's id or its folder.
"""

from __future__ import annotations

import argparse
import json
import time

from stablenew_tui.commands.exit_codes import EXIT_OK
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import QUEUE_NAME
from stablenew_tui.pipeline.queue import JobQueue

STATUSES = ("done", "failed", "queued", "running", "cancelled")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "runs",
        description="List every run in the queue, oldest first, with its images counted by "
        "status and its folder. `stablenew run --resume RUN [--retry-failed]` continues one.",
    )
    parser.add_argument("--json", action="store_true", help="a JSON list instead of a table")
    parser.set_defaults(func=list_runs)


def list_runs(args: argparse.Namespace) -> int:
    rows = run_rows(AppPaths.from_environment())
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no runs yet")
    else:
        print(_table(rows))
    return EXIT_OK


def run_rows(app_paths: AppPaths) -> list[dict]:
    path = app_paths.data_dir / QUEUE_NAME
    if not path.exists():
        return []  # not created just to say it is empty
    queue = JobQueue(path)
    try:
        return [
            {
                "id": run.id,
                "name": run.name,
                "created": run.created,
                "folder": run.folder,
                "counts": {status: n for status, n in queue.counts(run.id).items() if n},
            }
            for run in queue.runs()
        ]
    finally:
        queue.close()


def _table(rows: list[dict]) -> str:
    id_width = max(len("run"), *(len(row["id"]) for row in rows))
    head = f"{'run':<{id_width}}  {'created':<16}  " + "".join(f"{s:>10}" for s in STATUSES)
    lines = [f"{head}  folder"]
    for row in rows:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["created"]))
        counts = "".join(f"{row['counts'].get(status, 0):>10}" for status in STATUSES)
        lines.append(f"{row['id']:<{id_width}}  {created:<16}  {counts}  {row['folder']}")
    return "\n".join(lines)
