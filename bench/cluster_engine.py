"""Our engine in the cluster benchmark: the case's jobs planned in the case's order
(`plan_run`), added to the queue and made by `Engine.run` through a `RunLauncher`, as
`stablenew run` makes a run. The planner behind `--model A --model B` groups jobs by
checkpoint, so a run whose jobs alternate between two checkpoints can only be queued this way.

One data folder serves every run of the benchmark, as one user's machine would: whatever the
engine keeps between runs, it keeps here.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from stablenew_tui.config import AppConfig, ClientConfig, NodeConfig
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.engine import RunSummary
from stablenew_tui.pipeline.events import JobDone
from stablenew_tui.pipeline.jobs import Run
from stablenew_tui.pipeline.launch import RunLauncher

# After the deadline: the engine is asked to stop, then given this long before it is cancelled.
STOP_GRACE_SECONDS = 10.0


@dataclass
class EngineRun:
    """When the run's images were made and when `Engine.run` returned, in time.monotonic()."""

    images_at: list[float] = field(default_factory=list)
    ended: float = 0.0
    problem: str = ""  # how the run ended when it did not end by itself


def engine_paths(home: Path) -> AppPaths:
    return AppPaths(
        config_file=home / "config.toml",
        data_dir=home / "data",
        default_output_root=home / "output",
        user_themes_dir=home / "themes",
    )


def make_launcher(home: Path, urls: dict[str, str], client: ClientConfig) -> RunLauncher:
    nodes = [NodeConfig(name=name, url=url) for name, url in urls.items()]
    return RunLauncher(AppConfig(nodes=nodes, client=client), engine_paths(home), nodes)


async def run_engine(launcher: RunLauncher, run: Run, deadline: float) -> EngineRun:
    """Make the run, already in the launcher's queue; after `deadline` seconds the engine is
    stopped as Ctrl-C stops it."""
    result = EngineRun()
    events = launcher.engine.events.subscribe_queue()

    async def collect() -> None:
        while (event := await events.get()) is not None:
            if isinstance(event, JobDone):
                result.images_at.append(time.monotonic())

    collector = asyncio.create_task(collect())
    making = asyncio.create_task(launcher.engine.run(run))
    try:
        summary = await wait_or_stop(launcher, making, deadline, result)
        if summary is not None and summary.unfinished:
            result.problem = result.problem or f"ended with {summary.counts}"
    except Exception as error:  # what the engine let escape is a finding, not a crash
        result.problem = f"Engine.run raised {type(error).__name__}: {error}"
    result.ended = time.monotonic()
    await asyncio.sleep(0)  # let the collector read the last events
    collector.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await collector
    return result


async def wait_or_stop(
    launcher: RunLauncher, making: asyncio.Task[RunSummary], deadline: float, result: EngineRun
) -> RunSummary | None:
    done, _ = await asyncio.wait({making}, timeout=deadline)
    if done:
        return making.result()
    result.problem = f"still running after {deadline:.0f} s: stopped by the benchmark"
    await launcher.engine.interrupt()
    done, _ = await asyncio.wait({making}, timeout=STOP_GRACE_SECONDS)
    if done:
        return making.result()
    making.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await making
    result.problem += ", then cancelled"
    return None
