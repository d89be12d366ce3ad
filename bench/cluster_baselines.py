"""The baselines of the cluster benchmark: plain clients of the WebUI API, not our engine, each
keeping one request in flight per node and giving every node a fixed share of the jobs.

- round-robin: job i goes to node i mod n;
- static split: a short speed benchmark first, as sd-webui-distributed makes before it splits a
  batch (`scripts/spartan/world.py`), then each node a contiguous share of the jobs, in
  proportion to its measured speed (largest remainder).

A node's share is sent in job order, each request naming its checkpoint as our engine's do
(`override_settings`, not restored afterwards). A request that fails (refused, reset, timed
out) ends that node's share: the images left in it are never made, as sd-webui-distributed
drops a failed worker's images. Each image is written as our engine writes one: the bytes
atomically, then a fsynced manifest line.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from stablenew_tui.atomic import write_bytes_atomic
from stablenew_tui.pipeline.jobs import Job
from stablenew_tui.pipeline.outputs import RunOutputs
from stablenew_tui.pipeline.settings import PipelineSettings

STAGE = "txt2img"


@dataclass
class SplitRun:
    """When a split's images were made and how it ended, in time.monotonic()."""

    images_at: list[float] = field(default_factory=list)
    ended: float = 0.0
    errors: dict[str, str] = field(default_factory=dict)  # node → why its share stopped


def txt2img_body(job: Job, settings: PipelineSettings) -> dict[str, Any]:
    stage = settings.txt2img
    body: dict[str, Any] = {
        "prompt": job.spec.prompt,
        "seed": job.seed,
        "sampler_name": stage.sampler,
        "steps": stage.steps,
        "cfg_scale": stage.cfg_scale,
        "width": stage.width,
        "height": stage.height,
    }
    if job.spec.model:
        body["override_settings"] = {"sd_model_checkpoint": job.spec.model}
        body["override_settings_restore_afterwards"] = False
    return body


def round_robin(jobs: Sequence[Job], nodes: Sequence[str]) -> dict[str, list[Job]]:
    return {node: list(jobs[turn :: len(nodes)]) for turn, node in enumerate(nodes)}


def static_split(jobs: Sequence[Job], speeds: dict[str, float]) -> dict[str, list[Job]]:
    """Contiguous shares in proportion to `speeds`, rounded by largest remainder."""
    total = sum(speeds.values())
    exact = {node: len(jobs) * speed / total for node, speed in speeds.items()}
    sizes = {node: int(share) for node, share in exact.items()}
    by_remainder = sorted(exact, key=lambda node: exact[node] - sizes[node], reverse=True)
    for node in by_remainder[: len(jobs) - sum(sizes.values())]:
        sizes[node] += 1
    shares, start = {}, 0
    for node, size in sizes.items():
        shares[node], start = list(jobs[start : start + size]), start + size
    return shares


async def run_split(
    shares: dict[str, list[Job]],
    urls: dict[str, str],
    folder: Path,
    settings: PipelineSettings,
    read_timeout: float,
) -> SplitRun:
    """Send each node its share, all nodes at once; returns when every share has ended."""
    outputs = RunOutputs(folder)
    result = SplitRun()
    timeout = httpx.Timeout(read_timeout, connect=5.0)
    async with httpx.AsyncClient(timeout=timeout) as http:

        async def make_share(node: str) -> None:
            for job in shares[node]:
                try:
                    answer = await http.post(
                        f"{urls[node]}/sdapi/v1/txt2img", json=txt2img_body(job, settings)
                    )
                    answer.raise_for_status()
                    data = base64.b64decode(answer.json()["images"][0])
                except (httpx.HTTPError, ValueError, KeyError, IndexError) as error:
                    result.errors[node] = f"{type(error).__name__}: {error}"
                    return
                await asyncio.to_thread(save, outputs, job, node, data)
                result.images_at.append(time.monotonic())

        await asyncio.gather(*(make_share(node) for node in shares))
    result.ended = time.monotonic()
    return result


def save(outputs: RunOutputs, job: Job, node: str, data: bytes) -> None:
    path = outputs.image_path(STAGE, job, ".png")
    write_bytes_atomic(path, data)
    line = {"job_id": job.id, "stage": STAGE, "path": outputs.relative(path), "node": node}
    outputs.append_manifest([line])


async def benchmark_speeds(
    urls: dict[str, str], body: dict[str, Any], images: int
) -> dict[str, list[float]]:
    """The seconds each of `images` images took on each node, all nodes at once, after one
    image to warm up, on whatever checkpoint each node has loaded."""

    async def timed_images(http: httpx.AsyncClient, url: str) -> list[float]:
        times = []
        for turn in range(images + 1):
            started = time.monotonic()
            (await http.post(f"{url}/sdapi/v1/txt2img", json=body)).raise_for_status()
            if turn:
                times.append(time.monotonic() - started)
        return times

    async with httpx.AsyncClient(timeout=60) as http:
        times = await asyncio.gather(*(timed_images(http, url) for url in urls.values()))
    return dict(zip(urls, times, strict=True))
