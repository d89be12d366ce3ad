"""Runs one job's stages on one node and writes what they produce.

txt2img → img2img on its output → ADetailer on the last output → upscale on the last output,
as enabled; a job that refines an existing image starts from that image instead of txt2img.
Each generated image
is checked against its request before anything is kept (`verify`): one made with another
model, sampler, seed or size is never saved. Each stage's image is saved the moment it passes,
through `fence` so that only the job's current lease holder puts files in place; the last
stage's is saved by `keep`, which the engine runs while the node makes its next image. The manifest
lines and learning records for the job are written together when it ends, done or failed, so
what earlier stages made is never lost. A job redone after a crash writes its lines again and
they supersede the old ones (readers keep the last line per job and stage).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stablenew_tui.learning.records import RecordWriter
from stablenew_tui.pipeline.cluster import NodeHandle
from stablenew_tui.pipeline.compare_grid import cell_settings
from stablenew_tui.pipeline.events import EventStream, StageDone, StageStarted
from stablenew_tui.pipeline.jobs import Job, Run
from stablenew_tui.pipeline.outputs import RunOutputs
from stablenew_tui.pipeline.progress import ProgressPoller
from stablenew_tui.pipeline.refine import load_source
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.pipeline.stage_requests import (
    adetailer_request,
    appended_negative,
    img2img_request,
    job_model,
    pass_model,
    txt2img_request,
    upscale_request,
)
from stablenew_tui.pipeline.verify import Verdict, check_image
from stablenew_tui.webui.errors import AnswerMismatch
from stablenew_tui.webui.images import ReceivedImage, decode_received_image
from stablenew_tui.webui.requests import ExtrasRequest, Img2ImgRequest, Txt2ImgRequest

log = logging.getLogger("stablenew.engine")

IMAGE_STAGES = ("txt2img", "img2img", "adetailer", "upscale")
# Keys of the WebUI's `info` worth keeping in a learning record.
_INFO_KEYS = ("seed", "subseed", "sd_model_name", "sd_model_hash", "sd_vae_name", "version")
# Sends of one stage after an image came back made with another checkpoint or VAE.
MISMATCH_RETRIES = 1


@dataclass
class StageOutput:
    stage: str
    path: str
    sha256: str
    format: str  # "png", "jpeg" or "webp", from the bytes' signature
    infotext: str | None  # the generation parameters as the server wrote them
    sent: dict[str, Any]
    info: dict[str, Any]
    started: float
    finished: float
    verdict: Verdict = field(default_factory=Verdict)


@dataclass
class Answer:
    """A stage's image as its node sent it, checked and decoded."""

    stage: str
    image: str = field(repr=False)  # base64, what the next stage starts from
    decoded: ReceivedImage = field(repr=False)
    info: dict[str, Any]
    verdict: Verdict
    sent: dict[str, Any]  # the request, without its images
    started: float
    received: float  # time.time() when the node's answer was in


@dataclass
class JobRunner:
    run: Run
    job: Job
    handle: NodeHandle
    outputs: RunOutputs
    events: EventStream
    poller: ProgressPoller
    fence: Callable[[Callable[[], Any]], Any]  # runs a file write only while the job is ours
    stopped: Callable[[], bool] = lambda: False  # interrupted, skipped or taken over
    answers: list[Answer] = field(default_factory=list)  # each stage's, as its node sent it
    produced: list[StageOutput] = field(default_factory=list)  # those saved
    stage: str = "txt2img"
    overhead: float = 0.0  # seconds spent making its images and results durable
    start_image: str = field(repr=False, default="")  # base64 of the image it refines
    base_size: tuple[int, int] | None = None  # that image's size
    settings: PipelineSettings = field(init=False)  # the run's, as the job's cell changes them

    def __post_init__(self) -> None:
        self.settings = cell_settings(self.run.settings, self.job.spec.cell)

    async def execute(self) -> None:
        """Make the job's stages, each image saved once it passes its checks but the last
        one's: that one waits for `keep`."""
        source = self.job.spec.image
        if source is not None:
            self.start_image = await asyncio.to_thread(load_source, source)
            self.base_size = (source.width, source.height)
        stages = [name for name in self.settings.stages if name in IMAGE_STAGES]
        for stage in stages:
            if self.stopped():
                return
            self.stage = stage
            if not await self._generate(stage):
                return  # the image was cut short on purpose: not worth keeping
            if stage != stages[-1]:
                await self._keep(self.answers[-1])

    async def keep(self) -> None:
        """Save the last stage's image, if it was made and is not saved yet."""
        if len(self.produced) < len(self.answers):
            await self._keep(self.answers[-1])

    def discard(self) -> None:
        """Remove what this job wrote: it will be made again, or was not wanted."""
        for output in self.produced:
            with contextlib.suppress(FileNotFoundError):
                Path(output.path).unlink()
        self.produced.clear()

    async def _generate(self, stage: str) -> bool:
        """The stage's image as its node answered, checked, in `answers`; False when the job
        was stopped meanwhile."""
        settings, job, client = self.settings, self.job, self.handle.client
        previous = self.answers[-1].image if self.answers else self.start_image
        request: Txt2ImgRequest | Img2ImgRequest | ExtrasRequest
        if stage == "txt2img":
            request = txt2img_request(settings, job)
        elif stage == "img2img":
            request = img2img_request(settings, job, previous, self.base_size)
        elif stage == "adetailer":
            request = adetailer_request(settings, job, previous)
        else:
            request = upscale_request(settings, job, previous, self.base_size)
        self.events.publish(StageStarted(job.id, job.index, stage, self.handle.name))
        started = time.time()
        body = await client.payload(request)
        info: dict[str, Any]
        extras = isinstance(request, ExtrasRequest)
        async with self.poller.watch(self.handle, job, stage, reports_steps=not extras):
            if isinstance(request, ExtrasRequest):
                image, info = (await client.extra_single_image(request)).images[0], {}
                verdict = Verdict()
            else:
                image, info, verdict = await self._checked_generation(stage, request, body)
        received = time.time()
        if self.stopped():
            return False
        decoded = await asyncio.to_thread(decode_received_image, image, self.handle.name, stage)
        sent = _without_images(body)
        self.answers.append(Answer(stage, image, decoded, info, verdict, sent, started, received))
        return True

    async def _keep(self, answer: Answer) -> None:
        """Save a stage's image, as `produced`."""
        kept, job, decoded = time.perf_counter(), self.job, answer.decoded
        path, sha256 = await asyncio.to_thread(
            self.fence, functools.partial(self.outputs.save_image, answer.stage, job, decoded)
        )
        finished = time.time()
        self.produced.append(
            StageOutput(
                stage=answer.stage,
                path=str(path),
                sha256=sha256,
                format=decoded.format.value,
                infotext=_listed_infotext(answer.info) or decoded.infotext,
                sent=answer.sent,
                info=answer.info,
                started=answer.started,
                finished=finished,
                verdict=answer.verdict,
            )
        )
        self.overhead += time.perf_counter() - kept
        seconds = finished - answer.started
        self.events.publish(
            StageDone(job.id, job.index, answer.stage, self.handle.name, [str(path)], seconds)
        )

    async def _checked_generation(
        self, stage: str, request: Txt2ImgRequest | Img2ImgRequest, body: dict[str, Any]
    ) -> tuple[str, dict[str, Any], Verdict]:
        """The image, its `info` and what checking it found; sent again when it came back made
        with another checkpoint or VAE, which the node may have had switched under it."""
        client = self.handle.client
        node, models = self.handle.name, (await self.handle.catalog.get()).model_details
        sends_left = 1 + MISMATCH_RETRIES
        while True:
            sends_left -= 1
            result = await (
                client.txt2img(request)
                if isinstance(request, Txt2ImgRequest)
                else client.img2img(request)
            )
            image = result.generated_images()[0]
            if self.stopped():
                return image, result.raw_info, Verdict()  # cut short: it will not be kept
            try:
                return image, result.raw_info, check_image(body, result, models, node=node)
            except AnswerMismatch as mismatch:
                if not mismatch.retriable or sends_left == 0:
                    raise
                log.warning("%s %s: %s; sending it again", self.job.id, stage, mismatch)

    # -- what gets written when the job ends ---------------------------------------------

    def manifest_entries(self) -> list[dict[str, Any]]:
        job = self.job
        return [
            {
                "job_id": job.id,
                "run_id": job.run_id,
                "index": job.index,
                "stage": output.stage,
                **_prompt_fields(job),
                **self._global_negative_applied(output.stage),
                "settings": output.sent,
                "seed": output.info.get("seed", job.seed),
                "model": output.verdict.model,
                "model_hash": output.info.get("sd_model_hash"),
                "vae": output.verdict.vae,
                "unverified": list(output.verdict.unverified),
                "node": self.handle.name,
                "started": output.started,
                "finished": output.finished,
                "seconds": round(output.finished - output.started, 3),
                "path": self.outputs.relative(Path(output.path)),
                "format": output.format,
                "sha256": output.sha256,
                "infotext": output.infotext,
            }
            for output in self.produced
        ]

    def records(self) -> list[dict[str, Any]]:
        job = self.job
        return [
            {
                "time": output.finished,
                "run_id": job.run_id,
                "job_id": job.id,
                "stage": output.stage,
                "node": self.handle.name,
                "inputs": {
                    **_prompt_fields(job),
                    **self._global_negative_applied(output.stage),
                    **_record_inputs(output, job),
                    **self._chosen_model(output.stage),
                },
                "outputs": {
                    "paths": [output.path],
                    "format": output.format,
                    "infotext": output.infotext,
                    "info": {key: output.info[key] for key in _INFO_KEYS if key in output.info},
                    "unverified": list(output.verdict.unverified),
                },
                "timings": {
                    "queued": job.created,
                    "started": output.started,
                    "finished": output.finished,
                },
            }
            for output in self.produced
        ]

    def _global_negative_applied(self, stage: str) -> dict[str, bool]:
        """Whether this stage appended the run's global negative to the negative it sent, so
        the prompt's own negative (`negative`) and the global one stay told apart."""
        if not self.job.spec.global_negative:
            return {}
        return {"global_negative_applied": bool(appended_negative(self.run.settings, self.job,
                                                                    stage))}  # fmt: skip

    def _chosen_model(self, stage: str) -> dict[str, str]:
        """The checkpoint as the user chose it, so ratings map back to dropdown entries."""
        settings, job = self.settings, self.job
        passes = ("img2img", "adetailer")
        chosen = pass_model(settings, job) if stage in passes else job_model(settings, job)
        return {"model": chosen} if chosen else {}

    def write_results(self, records: RecordWriter) -> None:
        """Blocking (fsync): the engine runs it in a thread, inside the job's completion."""
        started = time.perf_counter()
        self.outputs.append_manifest(self.manifest_entries())
        records.append(self.records())
        self.overhead += time.perf_counter() - started


def _prompt_fields(job: Job) -> dict[str, Any]:
    spec = job.spec
    fields: dict[str, Any] = {"prompt": spec.prompt, "negative": spec.negative}
    if spec.hypernetwork is not None:
        fields.update(
            hypernetwork=spec.hypernetwork, hypernetwork_strength=spec.hypernetwork_strength
        )
    if spec.global_negative:
        fields["global_negative"] = spec.global_negative
    if spec.image is not None:  # a refined image names the one it started from
        fields["source_image"] = {"path": spec.image.path, "sha256": spec.image.sha256}
    if spec.template is not None:
        fields.update(
            template=spec.template,
            choices=spec.choices or {},
            locks=spec.locks or {},
            mode=spec.mode,
            prompt_seed=spec.prompt_seed,
        )
    return fields


def _record_inputs(output: StageOutput, job: Job) -> dict[str, Any]:
    sent = output.sent
    overrides = sent.get("override_settings") or {}
    inputs = {
        "model": output.verdict.model,
        "vae": output.verdict.vae,
        "sampler": sent.get("sampler_name"),
        "scheduler": sent.get("scheduler"),
        "steps": sent.get("steps"),
        "cfg_scale": sent.get("cfg_scale"),
        "width": sent.get("width"),
        "height": sent.get("height"),
        "seed": output.info.get("seed", job.seed),
        "denoising_strength": sent.get("denoising_strength"),
        "hires": sent.get("enable_hr"),
        "clip_skip": overrides.get("CLIP_stop_at_last_layers"),
        "upscaler": sent.get("upscaler_1"),
        "upscale_factor": sent.get("upscaling_resize"),
    }
    return {key: value for key, value in inputs.items() if value is not None}


def _without_images(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in ("image", "init_images")}


def _listed_infotext(info: dict[str, Any]) -> str | None:
    """The infotext `info` lists for the image kept (the first after any grid)."""
    infotexts = info.get("infotexts")
    first = info.get("index_of_first_image", 0)
    if isinstance(infotexts, list) and isinstance(first, int) and 0 <= first < len(infotexts):
        text = infotexts[first]
        return text if isinstance(text, str) and text else None
    return None
