"""Which job each node makes next, from what it has loaded and how fast it is.

The scheduler keeps, per node of this process, the checkpoint it last made an image with (a
node told so by its own answers, which `verify` checks) and feeds the speed model each job
it finishes: the job's time when the node had its checkpoint loaded already, else the extra
time over the model's estimate as that checkpoint's load time (see `speed_model`).
"""

from __future__ import annotations

import asyncio
import time

from stablenew_tui.pipeline.job_runner import JobRunner
from stablenew_tui.pipeline.speed_model import SpeedBook, job_work
from stablenew_tui.pipeline.stage_requests import job_model, pass_model

SAVE_SECONDS = 30.0  # the speed book is saved at least this often while jobs finish
# Stages after txt2img that generate with the pass checkpoint (an extras upscale loads none).
_PASSES = ("img2img", "adetailer")


class Scheduler:
    def __init__(self, speeds: SpeedBook) -> None:
        self.speeds = speeds
        self.loaded: dict[str, str | None] = {}  # node → checkpoint it holds, where known
        self._saved = time.monotonic()

    async def job_made(self, runner: JobRunner) -> None:
        """Learn from a job that ran to its end on its node."""
        if not runner.produced:
            return
        node, job, settings = runner.handle.name, runner.job, runner.run.settings
        seconds = runner.produced[-1].finished - runner.produced[0].started
        work = job_work(job.spec, settings)
        model = job_model(settings, job)
        known = node in self.loaded
        if known and self.loaded[node] == model:
            self.speeds.observe(node, work, seconds)
        elif known and model is not None:
            expected = self.speeds.estimate(node, work)
            if expected is not None:
                self.speeds.observe_load(node, model, max(seconds - expected, 0.0))
        self.loaded[node] = _held_after(runner)
        if time.monotonic() - self._saved >= SAVE_SECONDS:
            await self.save()

    async def save(self) -> None:
        self._saved = time.monotonic()
        await asyncio.to_thread(self.speeds.save)


def _held_after(runner: JobRunner) -> str | None:
    """The checkpoint a node holds after making this job: the pass checkpoint when a later
    stage generated with it."""
    settings, job = runner.run.settings, runner.job
    generated = {output.stage for output in runner.produced}
    upscaled_by_img2img = "upscale" in generated and settings.upscale.method == "img2img"
    if upscaled_by_img2img or generated & set(_PASSES):
        return pass_model(settings, job)
    return job_model(settings, job)
