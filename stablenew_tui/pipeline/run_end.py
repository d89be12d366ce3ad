"""What a run leaves behind when it ends, however it ended: its summary for the caller, its
summary.csv, and its settings and first prompt as the last run, so the next start is warm."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from stablenew_tui.learning.ratings import RATINGS_NAME, RatingStore
from stablenew_tui.pipeline.jobs import Run, job_id
from stablenew_tui.pipeline.lastrun import LAST_RUN_NAME, save_last_run
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.pipeline.summary import SUMMARY_NAME, write_summary

log = logging.getLogger("stablenew.engine")


@dataclass
class RunSummary:
    run_id: str
    folder: str
    counts: dict[str, int] = field(default_factory=dict)
    stopped: bool = False
    taken_over_by: str = ""
    halted: str = ""  # why the run stopped early: a write to this machine's storage failed

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)

    @property
    def unfinished(self) -> int:
        return self.counts.get("queued", 0) + self.counts.get("running", 0)


def summarize(run: Run, data_dir: Path) -> None:
    """summary.csv: it is derived, so failing to write it costs nothing else. Blocking."""
    try:
        write_summary(Path(run.folder), RatingStore(data_dir / RATINGS_NAME))
    except OSError as error:
        log.warning("%s: could not write %s: %s", run.folder, SUMMARY_NAME, error)


def remember(queue: JobQueue, run: Run, data_dir: Path) -> None:
    """Save the run's settings and first prompt as the last run. A seed drawn at random stays
    -1 in the settings, so it is never remembered as fixed. A run that refined existing images
    leaves it alone: the next run from prompts starts warm."""
    first = queue.job(job_id(run.id, 0))
    if first is None or first.spec.image is not None:
        return
    spec = first.spec
    prompt = spec.template if spec.template is not None else spec.prompt
    save_last_run(data_dir / LAST_RUN_NAME, run.settings, prompt, spec.negative)
