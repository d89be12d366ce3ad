"""The multi-node scheduler against several simulators over loopback HTTP: the speed model it
learns, which job each node takes, and the run's ETA."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.events import RunEstimate
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.pipeline.speed_model import SPEEDS_NAME, SpeedBook
from stablenew_tui.services.run_status import RunStatus
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import launcher_for, posted, run_to_end

SMALL = {"steps": 2, "width": 128, "height": 128, "seed": 7}
# Where the scheduler's choices depend on which node asks first, nodes take real (simulated)
# time: a job 0.13 s, a load 0.2 s (0.4 s for SDXL), so neither can make the whole batch
# while the other is still connecting.
TIMED = {"steps": 20, "width": 512, "height": 512, "seed": 7}
TIMED_SPEED = 10
# Two checkpoints every simulated node has; neither is the one it starts with.
DREAMSHAPER = "dreamshaper_8"
ANYTHING = "anything-v5-PrtRE"


def bare(name: str) -> str:
    """A checkpoint name without its hash or extension, as requests and options differ."""
    return re.sub(r"\.safetensors$", "", re.sub(r" \[[0-9a-f]+\]$", "", name))


def loads(sim: SimServer, started_with: str) -> int:
    """How many times the node had to load a checkpoint: each generation naming another than
    the one it held (the simulator serves one at a time, in the order received)."""
    held, count = bare(started_with), 0
    for body in posted(sim, "txt2img"):
        wanted = bare(body["override_settings"]["sd_model_checkpoint"])
        count += wanted != held
        held = wanted
    return count


def two_model_pack(folder: Path) -> Path:
    pack = folder / "two.toml"
    pack.write_text(
        f'prompts = [\n  {{ prompt = "a red barn", model = "{DREAMSHAPER}" }},\n'
        f'  {{ prompt = "a blue barn", model = "{ANYTHING}" }},\n]\n'
    )
    return pack


async def run_on(sims: list[SimServer], request: RunRequest, *, pass_limit: int | None = None):
    launcher = launcher_for(*(sim.url for sim in sims))
    if pass_limit is not None:
        launcher.engine.scheduler.pass_limit = pass_limit
    try:
        return await run_to_end(launcher, request)
    finally:
        await launcher.aclose()


async def simulators(stack: AsyncExitStack, count: int, speed: float = 0) -> list[SimServer]:
    return [await stack.enter_async_context(SimServer(speed=speed)) for _ in range(count)]


async def test_finished_jobs_teach_the_speed_book_and_it_is_kept():
    async with AsyncExitStack() as stack:
        sims = await simulators(stack, 2)
        flags = {"images_per_prompt": 6, "txt2img": SMALL}
        _, summary, _ = await run_on(sims, RunRequest(prompt="a dune", flags=flags))
    assert summary.counts == {"done": 6}
    book = SpeedBook.load(AppPaths.from_environment().data_dir / SPEEDS_NAME)
    work = 128 * 128 / 1e6 * 2
    made_here = {node for node in ("node0", "node1") if book.estimate(node, work) is not None}
    assert made_here == {"node0", "node1"}


async def test_nodes_keep_to_their_checkpoint_on_a_two_model_batch(tmp_path):
    """8 images on each of two checkpoints over two nodes: with affinity each node loads
    once; first come, first served (no job may be passed over) loads each on both."""
    flags = {"images_per_prompt": 8, "txt2img": TIMED}
    request = RunRequest(pack=str(two_model_pack(tmp_path)), flags=flags)
    counted = {}
    for pass_limit in (None, 0):
        async with AsyncExitStack() as stack:
            sims = await simulators(stack, 2, TIMED_SPEED)
            started_with = [sim.options["sd_model_checkpoint"] for sim in sims]
            _, summary, _ = await run_on(sims, request, pass_limit=pass_limit)
            assert summary.counts == {"done": 16}
            counted[pass_limit] = [
                loads(sim, start) for sim, start in zip(sims, started_with, strict=True)
            ]
    assert sum(counted[None]) <= 2 + 2
    assert sum(counted[None]) < sum(counted[0])


# The checkpoint every simulated A1111 node starts with.
SDXL = "sd_xl_base_1.0"


def pack_of(folder: Path, models: list[str]) -> Path:
    """One prompt per image, each naming its checkpoint, in this order."""
    pack = folder / "pack.toml"
    entries = ",\n".join(
        f'  {{ prompt = "a barn number {n}", model = "{model}" }}' for n, model in enumerate(models)
    )
    pack.write_text(f"prompts = [\n{entries},\n]\n")
    return pack


def first_made(sim: SimServer) -> str:
    return bare(posted(sim, "txt2img")[0]["override_settings"]["sd_model_checkpoint"])


async def test_a_node_switches_early_when_that_saves_a_load(tmp_path):
    """Both nodes hold the checkpoint of the first 8 jobs; 8 more wait for another. Staying,
    both would load the other at the end; one switching now ends as soon with one load (the
    other may still join it at the end, when that ends the batch sooner)."""
    request = RunRequest(pack=str(pack_of(tmp_path, [SDXL] * 8 + [ANYTHING] * 8)), flags={
        "txt2img": TIMED})  # fmt: skip
    outcome = {}
    for pass_limit in (None, 0):
        async with AsyncExitStack() as stack:
            sims = await simulators(stack, 2, TIMED_SPEED)
            starts = [sim.options["sd_model_checkpoint"] for sim in sims]
            _, summary, _ = await run_on(sims, request, pass_limit=pass_limit)
            assert summary.counts == {"done": 16}
            outcome[pass_limit] = (
                sorted(loads(sim, start) for sim, start in zip(sims, starts, strict=True)),
                sorted(first_made(sim) for sim in sims),
            )
    loads_now, first_now = outcome[None]
    loads_fifo, first_fifo = outcome[0]
    assert first_now == sorted([ANYTHING, SDXL]), "one switched while its own jobs waited"
    assert first_fifo == [SDXL, SDXL], "first come, first served: both switch late"
    assert loads_fifo == [1, 1] and sum(loads_now) <= 2


async def test_a_job_is_passed_over_at_most_pass_limit_times(tmp_path):
    """One node holding one checkpoint, and a job for another at the head of the queue:
    affinity passes it over, but only `pass_limit` times."""
    request = RunRequest(pack=str(pack_of(tmp_path, [ANYTHING] + [SDXL] * 8)), flags={
        "txt2img": SMALL})  # fmt: skip
    order = {}
    for pass_limit in (None, 3):
        async with SimServer(speed=0) as sim:
            prepared, summary, _ = await run_on([sim], request, pass_limit=pass_limit)
            assert summary.counts == {"done": 9}
            base = prepared.run.source["base_seed"]
            order[pass_limit] = [body["seed"] - base for body in posted(sim, "txt2img")]
    assert order[None] == [1, 2, 3, 4, 5, 6, 7, 8, 0], "the other checkpoint's job waits"
    assert order[3] == [1, 2, 3, 0, 4, 5, 6, 7, 8], "until 3 later jobs passed it"


async def test_the_run_eta_comes_from_the_known_speeds_from_the_start():
    """Both nodes are known (from earlier runs) to make one of these images a second: ten
    images over two are 5 s away before the first starts, and the estimates fall to 0."""
    flags = {"images_per_prompt": 10, "txt2img": SMALL}
    book = SpeedBook.load(AppPaths.from_environment().data_dir / SPEEDS_NAME)
    work = 128 * 128 / 1e6 * 2
    for node in ("node0", "node1"):
        for _ in range(5):
            book.observe(node, work, 1.0)
    book.save()
    async with AsyncExitStack() as stack:
        sims = await simulators(stack, 2)
        _, summary, events = await run_on(sims, RunRequest(prompt="a dune", flags=flags))
    assert summary.counts == {"done": 10}
    kinds = [type(event).__name__ for event in events]
    estimates = [event.seconds for event in events if isinstance(event, RunEstimate)]
    assert kinds.index("RunEstimate") < kinds.index("StageStarted")
    assert estimates[0] == pytest.approx(5.0)
    assert estimates[-1] == pytest.approx(0.0, abs=1e-6)
    assert len(estimates) == 1 + 10, "one at the start, one as each job ends"
    status = RunStatus()
    status.update(events[: kinds.index("StageStarted")])
    assert status.summary() == "10 left · ETA 5s"
