"""Pipeline engine client overhead: 2,000 txt2img images at 512×512 (20 steps) against the
built-in simulator at instant speed, started the way the CLI starts a run (`RunLauncher`).

Prints throughput; the engine's own overhead per image from its `JobDone` events (its time
making each answer's PNG, manifest line and learning record durable, fsynced: work done while
the node makes the next image), median and p95;
HTTP requests per image, by path; peak RSS and RSS growth from image 100 to the end. The
simulator runs in this process, so RSS and wall time include it.

Baselines from the same run, because this machine is noisy and ratios are what we compare:
- floor: the durable writes alone, as the engine makes them for one image: the same PNG bytes
  through `write_bytes_atomic`, then the run's own manifest line and record line through
  `append_lines` (two fsynced appends, as the engine does), median of 200;
- parsing: what the overhead figure leaves out because it happens inside the HTTP client
  call: `json.loads` of one real answer, `GenerationResult.from_answer` and the base64 decode.

While the run goes, every `os.fsync` is counted by the thread that makes it: the durable
writes belong in threads, and any on the event loop thread stalls the TUI for its length.

Then the queue on its own: the median time of one `JobQueue.claim` with 50, 10,000 and 50,000
jobs queued in one run, side by side; a claim should cost the same at every size.

    .venv/bin/python bench/overhead.py [--images N]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from stablenew_tui.atomic import write_bytes_atomic
from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.jsonl import append_lines
from stablenew_tui.learning.records import RECORDS_NAME
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.events import Event, JobDone, JobFailed, RunFinished
from stablenew_tui.pipeline.jobs import PromptSpec, plan_run
from stablenew_tui.pipeline.launch import RunLauncher, RunRequest
from stablenew_tui.pipeline.outputs import MANIFEST_NAME
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.sim import SimServer
from stablenew_tui.webui.models import GenerationResult

PROMPT = "a lighthouse on a cliff at dusk, oil painting"
TXT2IMG = "/sdapi/v1/txt2img"
RSS_MARK = 100  # images done when the starting RSS is read
TARGET_OVERHEAD_MS = 3.0
TARGET_RSS_GROWTH_MB = 50.0
REPEATS = 200
QUEUE_SIZES = (50, 10_000, 50_000)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6  # the kernel's "kB" are KiB
    raise RuntimeError("no VmRSS in /proc/self/status")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # KiB on Linux


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) > 1 else values[0]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


class FsyncCounter:
    """Counts fsyncs made on the event loop's thread and elsewhere while installed."""

    def __init__(self) -> None:
        self.on_loop = 0
        self.elsewhere = 0
        self._loop_thread = threading.current_thread()
        self._fsync = os.fsync

    def __enter__(self) -> FsyncCounter:
        def counted(fd: int) -> None:
            if threading.current_thread() is self._loop_thread:
                self.on_loop += 1
            else:
                self.elsewhere += 1
            self._fsync(fd)

        os.fsync = counted
        return self

    def __exit__(self, *exc_info: object) -> None:
        os.fsync = self._fsync


class Collector:
    """Reads the engine's events as they come: overheads, failures, RSS at the mark."""

    def __init__(self, mark: int) -> None:
        self.mark = mark
        self.overheads: list[float] = []
        self.failures: list[str] = []
        self.rss_at_mark: float | None = None

    async def collect(self, queue: asyncio.Queue[Event | None]) -> None:
        while (event := await queue.get()) is not None:
            if isinstance(event, JobDone):
                self.overheads.append(event.overhead_ms)
                if len(self.overheads) == self.mark:
                    self.rss_at_mark = rss_mb()
            elif isinstance(event, JobFailed):
                self.failures.append(event.reason)
            elif isinstance(event, RunFinished):
                return


async def run_engine(
    sim: SimServer, images: int, fsyncs: FsyncCounter
) -> tuple[Collector, float, Path]:
    launcher = RunLauncher(
        AppConfig(), AppPaths.from_environment(), [NodeConfig(name="sim", url=sim.url)]
    )
    flags = {
        "images_per_prompt": images,
        "txt2img": {"width": 512, "height": 512, "steps": 20, "seed": 1},
    }
    try:
        prepared = await launcher.prepare(RunRequest(prompt=PROMPT, flags=flags))
        collector = Collector(min(RSS_MARK, images))
        task = asyncio.create_task(collector.collect(launcher.engine.events.subscribe_queue()))
        started = time.perf_counter()
        with fsyncs:
            await launcher.engine.run(prepared.run)
        wall = time.perf_counter() - started
        await task
    finally:
        await launcher.aclose()
    return collector, wall, Path(prepared.run.folder)


def durable_floor(folder: Path, scratch: Path) -> tuple[float, float, float]:
    """Median ms of (PNG write, two appends, both) for one image's writes, done directly."""
    png = next((folder / "txt2img").glob("*.png")).read_bytes()
    manifest_line = json.loads((folder / MANIFEST_NAME).read_text().splitlines()[0])
    data_dir = AppPaths.from_environment().data_dir
    record_line = json.loads((data_dir / RECORDS_NAME).read_text().splitlines()[0])
    writes, appends, totals = [], [], []
    for index in range(REPEATS):
        started = time.perf_counter()
        write_bytes_atomic(scratch / "txt2img" / f"{index:05d}.png", png)
        written = time.perf_counter()
        append_lines(scratch / MANIFEST_NAME, [manifest_line])
        append_lines(scratch / RECORDS_NAME, [record_line])
        ended = time.perf_counter()
        writes.append(written - started)
        appends.append(ended - written)
        totals.append(ended - started)
    return tuple(statistics.median(times) * 1000 for times in (writes, appends, totals))


def claim_times(scratch: Path) -> list[float]:
    """Median ms of one claim with each of QUEUE_SIZES jobs queued in one run (each claimed
    job is put back at once, so the queue stays that size)."""
    medians = []
    for size in QUEUE_SIZES:
        queue = JobQueue(scratch / f"queue-{size}.sqlite3")
        specs = [(0, PromptSpec(prompt=PROMPT))] * size
        run, jobs = plan_run(specs, PipelineSettings(), base_seed=1, name="scale", folder="-")
        queue.add_run(run, jobs)
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            job = queue.claim(run.id, "bench")
            times.append(time.perf_counter() - started)
            queue.requeue(job)
        queue.close()
        medians.append(statistics.median(times) * 1000)
    return medians


async def fetch_answer(sim: SimServer) -> bytes:
    """One real txt2img answer, for the body the engine last sent."""
    body = sim.requests.for_path(TXT2IMG)[-1].body
    async with httpx.AsyncClient(base_url=sim.url, timeout=60) as client:
        response = await client.post(TXT2IMG, json=body)
        response.raise_for_status()
        return response.content


def parse_cost(raw: bytes) -> tuple[float, float]:
    """Median ms of json.loads, and of from_answer + base64 decode, on one answer."""
    loads, models = [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        data = json.loads(raw)
        parsed = time.perf_counter()
        image = GenerationResult.from_answer(data).generated_images()[0]
        base64.b64decode(image, validate=True)
        ended = time.perf_counter()
        loads.append(parsed - started)
        models.append(ended - parsed)
    return statistics.median(loads) * 1000, statistics.median(models) * 1000


def request_lines(sim: SimServer, images: int) -> list[str]:
    total = sim.requests.total
    lines = [f"HTTP requests      {total} ({total / images:.4f} per image)"]
    if len(sim.requests) < total:
        lines.append(f"  (the log kept the last {len(sim.requests)}; counts below are partial)")
    counts = Counter(f"{entry.method} {entry.path}" for entry in sim.requests)
    lines += [f"  {count:>6}  {path}" for path, count in counts.most_common()]
    first_image = next(entry.seq for entry in sim.requests if entry.path == TXT2IMG)
    extra = [entry for entry in sim.requests if entry.path != TXT2IMG]
    early = sum(entry.seq < first_image for entry in extra)
    lines.append(f"  extra (not txt2img): {len(extra)}, {early} of them before the first image")
    lines.append("  (the server probe, then the catalog the run's names are checked against)")
    return lines


async def bench(images: int, home: Path) -> None:
    async with SimServer(flavor="a1111", speed=0) as sim:
        fsyncs = FsyncCounter()
        collector, wall, folder = await run_engine(sim, images, fsyncs)
        if not collector.overheads:
            raise SystemExit(f"no image was made: {collector.failures[:1] or 'no events'}")
        requests = request_lines(sim, images)
        answer = await fetch_answer(sim)
    rss_end, peak = rss_mb(), peak_rss_mb()
    write_ms, append_ms, floor_ms = durable_floor(folder, home / "floor")
    loads_ms, model_ms = parse_cost(answer)
    claims_ms = claim_times(home)

    done = len(collector.overheads)
    median, high = statistics.median(collector.overheads), p95(collector.overheads)
    growth = rss_end - (collector.rss_at_mark or rss_end)
    parse_ms = loads_ms + model_ms
    print(f"images             {done} done of {images}: 512x512 txt2img, 20 steps")
    if collector.failures:
        print(f"  FAILED           {len(collector.failures)}: {collector.failures[0]}")
    print(f"wall               {wall:.1f} s, {done / wall:.1f} images/s")
    ok = median <= TARGET_OVERHEAD_MS
    print(
        f"overhead / image   median {median:.2f} ms, p95 {high:.2f} ms"
        f"   target median ≤ {TARGET_OVERHEAD_MS:g} ms: {verdict(ok)}"
    )
    print(
        f"fsyncs             {fsyncs.elsewhere} in threads, {fsyncs.on_loop} on the event loop"
        f" ({(fsyncs.elsewhere + fsyncs.on_loop) / done:.1f} per image)"
    )
    print(f"floor              {floor_ms:.2f} ms (median of {REPEATS}, same disk, same run)")
    print(f"  PNG write_bytes_atomic {write_ms:.2f} + manifest and record appends {append_ms:.2f}")
    print(f"overhead ÷ floor   median {median / floor_ms:.2f}, p95 {high / floor_ms:.2f}")
    print(f"not in overhead    {parse_ms:.2f} ms per answer, inside the HTTP client call:")
    print(f"  json.loads {loads_ms:.2f} + from_answer and base64 decode {model_ms:.2f}", end="")
    print(f" ({len(answer) / 1024:.0f} KiB answer; {parse_ms / floor_ms:.2f} × floor)")
    print("\n".join(requests))
    ok = growth <= TARGET_RSS_GROWTH_MB
    print(f"peak RSS           {peak:.1f} MB (the simulator runs in this process)")
    print(
        f"RSS growth         {growth:+.1f} MB from image {collector.mark} to the end"
        f"   target ≤ {TARGET_RSS_GROWTH_MB:g} MB: {verdict(ok)}"
    )
    pairs = zip(QUEUE_SIZES, claims_ms, strict=True)
    sizes = "   ".join(f"{size:,} queued {ms:.3f}" for size, ms in pairs)
    print(f"claim, ms          {sizes}   (median of {REPEATS} each)")
    print(f"  {QUEUE_SIZES[-1]:,} ÷ {QUEUE_SIZES[0]:,}: {claims_ms[-1] / claims_ms[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000, help="images to make (2000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as home:
        os.environ["STABLENEW_HOME"] = home  # before any path is built: nothing outside home
        asyncio.run(bench(args.images, Path(home)))


if __name__ == "__main__":
    main()
