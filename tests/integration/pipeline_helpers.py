"""Starting runs against a simulator the way the CLI and the TUI do."""

from __future__ import annotations

import asyncio
from pathlib import Path

from stablenew_tui.config import AppConfig, NodeConfig
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.engine import EngineOptions
from stablenew_tui.pipeline.events import Event, JobDone
from stablenew_tui.pipeline.launch import RunLauncher, RunRequest
from stablenew_tui.pipeline.outputs import read_manifest


def launcher_for(
    *urls: str, options: EngineOptions | None = None, config: AppConfig | None = None
) -> RunLauncher:
    nodes = [NodeConfig(name=f"node{n}", url=url) for n, url in enumerate(urls)]
    config = config or AppConfig()
    return RunLauncher(config, AppPaths.from_environment(), nodes, options=options)


async def run_to_end(launcher: RunLauncher, request: RunRequest):
    """Plan and run; returns (prepared run, summary, every event)."""
    prepared = await launcher.prepare(request)
    queue = launcher.engine.events.subscribe_queue()
    summary = await launcher.engine.run(prepared.run)
    return prepared, summary, drain(queue)


def drain(queue: asyncio.Queue) -> list[Event]:
    events = []
    while not queue.empty():
        event = queue.get_nowait()
        if event is not None:
            events.append(event)
    return events


def manifest(folder: str | Path) -> list[dict]:
    """The run's current manifest lines, as its reader sees them."""
    return read_manifest(Path(folder))


def posted(sim, endpoint: str) -> list[dict]:
    return [r.body for r in sim.requests if r.method == "POST" and r.path.endswith("/" + endpoint)]


async def start_run(launcher: RunLauncher, request: RunRequest):
    """Plan the run and start making it in a task; returns (prepared run, its events from
    the start, the task)."""
    prepared = await launcher.prepare(request)
    events = launcher.engine.events.subscribe_queue()
    return prepared, events, asyncio.create_task(launcher.engine.run(prepared.run))


async def next_event(events: asyncio.Queue, kind: type, within: float = 30):
    """The next event of `kind`, passing over the others."""
    while not isinstance(event := await asyncio.wait_for(events.get(), within), kind):
        pass
    return event


async def run_acting_on(launcher, request, act, after_done: int = 1, within: float = 60):
    """Run `request`; call `act()` once `after_done` images are done. Returns (prepared,
    summary, every event)."""
    prepared, events, task = await start_run(launcher, request)
    seen, done = [], 0
    while done < after_done:
        event = await asyncio.wait_for(events.get(), 30)
        seen.append(event)
        done += isinstance(event, JobDone)
    act()
    summary = await asyncio.wait_for(task, within)
    return prepared, summary, seen + drain(events)
