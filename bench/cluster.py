"""Cluster benchmark: one batch spread over three simulated WebUI nodes at speeds 1, 0.5 and
0.25, whose checkpoint loads take time, made by our engine and by two baselines on the same
nodes in the same run: round-robin and a static split by benchmarked speed (see
`cluster_baselines`).

Cases: (a) one model; (b) two models, jobs grouped by model; (c) two models, jobs alternating;
(d) the fast node's real speed halves mid-run; (e) the mid node is killed mid-run; (f) the fast
node hangs mid-run (every request accepted, none answered). For each run it prints the
makespan (start to the last image) against its lower bound (`cluster_checks`) at the speeds
the nodes showed in a speed benchmark and at their set speeds (for (d)-(f) the bound given
what happened to the node, at the moment it happened), the checkpoint loads the
nodes made, images per node, lost and duplicated images, and the time from the last image to
the run's end; then which of the engine's targets each case meets.

    .venv/bin/python bench/cluster.py [--quick] [--cases abcdef] [--images N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cluster_baselines import benchmark_speeds, round_robin, run_split, static_split, txt2img_body
from cluster_checks import ImageCount, SpeedProfile, best_split, count_images, lower_bound
from cluster_engine import make_launcher, run_engine
from cluster_nodes import SimNodes
from cluster_report import print_report

from stablenew_tui.config import ClientConfig
from stablenew_tui.jsonl import read_jsonl
from stablenew_tui.learning.records import RECORDS_NAME
from stablenew_tui.pipeline.jobs import Job, PromptSpec, plan_run
from stablenew_tui.pipeline.settings import PipelineSettings
from stablenew_tui.sim.engine import SECONDS_PER_STEP_PER_MEGAPIXEL
from stablenew_tui.sim.state import MODEL_LOAD_SECONDS

SPEEDS = {"fast": 1.0, "mid": 0.5, "slow": 0.25}
MODEL_A, MODEL_B = "v1-5-pruned-emaonly.safetensors", "dreamshaper_8.safetensors"  # SD 1.5
PROMPT = "a lighthouse on a cliff at dusk, oil painting"
POLICIES = ("engine", "round-robin", "static")


@dataclass(frozen=True)
class Scale:
    images: int  # per case
    width: int
    height: int
    steps: int
    load_scale: float  # of the simulator's load seconds
    read_timeout: float  # the engine's and the baselines'
    stall_timeout: float
    retry_seconds: float
    benchmark_images: int  # per node, for the static split and the bound

    @property
    def image_seconds(self) -> float:
        """One image at speed 1, as the simulator times it."""
        return SECONDS_PER_STEP_PER_MEGAPIXEL * self.width * self.height / 1e6 * self.steps

    @property
    def load_seconds(self) -> float:
        """One checkpoint load at speed 1 (both models are SD 1.5)."""
        return MODEL_LOAD_SECONDS["sd15"] * self.load_scale

    def client(self) -> ClientConfig:
        return ClientConfig(
            read_timeout=self.read_timeout,
            stall_timeout=self.stall_timeout,
            retry_seconds=self.retry_seconds,
        )


# 448×448 at 4 steps: 0.2 s an image at speed 1; a load 0.5 s at speed 1, 2 s on the slow node.
FULL = Scale(300, 448, 448, 4, 0.25, 20.0, 5.0, 30.0, 8)
QUICK = Scale(12, 448, 448, 1, 0.05, 5.0, 2.0, 10.0, 2)


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    models: tuple[str, ...] = (MODEL_A,)
    alternate: bool = False
    event: str = ""  # "speed", "kill" or "hang"
    node: str = ""
    at: float = 0.0  # when, as a fraction of the undisturbed bound

    def job_prompts(self, images: int) -> list[tuple[int, PromptSpec]]:
        count = len(self.models)
        if self.alternate:
            models = [self.models[i % count] for i in range(images)]
        else:
            models = [self.models[i * count // images] for i in range(images)]
        return [(0, PromptSpec(prompt=PROMPT, model=model)) for model in models]


CASES = (
    Case("a", "one model"),
    Case("b", "two models, grouped", (MODEL_A, MODEL_B)),
    Case("c", "two models, alternating", (MODEL_A, MODEL_B), alternate=True),
    Case("d", "fast node to half speed at 30%", event="speed", node="fast", at=0.3),
    Case("e", "mid node killed at 40%", event="kill", node="mid", at=0.4),
    Case("f", "fast node hangs at 40%", event="hang", node="fast", at=0.4),
)


@dataclass
class Measured:
    case: Case
    policy: str
    makespan: float
    bound: float  # at the benchmarked speeds
    nominal_bound: float  # at the set speeds
    loads: int
    images: ImageCount
    exit_after: float | None  # from the last image to the end of the run
    notes: list[str] = field(default_factory=list)


class Bench:
    def __init__(self, scale: Scale, out: Path) -> None:
        self.scale = scale
        self.out = out
        self.nodes = SimNodes(SPEEDS, scale.load_scale, out)
        self.settings = PipelineSettings.model_validate(
            {"txt2img": {"width": scale.width, "height": scale.height, "steps": scale.steps,
                         "seed": 1}}
        )  # fmt: skip
        self.timed: dict[str, list[float]] = {}  # the speed benchmark's images, per node
        self.engine_home = out / "engine-home"

    @property
    def urls(self) -> dict[str, str]:
        return {node.name: node.url for node in self.nodes.nodes}

    def plain_bound(self) -> float:
        """The undisturbed bound at the nodes' set speeds: what the deadline and the moment of
        each case's event are measured in."""
        return self.bound(CASES[0], None, self.nominal_seconds())

    def mean_seconds(self) -> dict[str, float]:
        """Seconds an image on each node, as the static split weighs the nodes."""
        return {name: sum(times) / len(times) for name, times in self.timed.items()}

    def fastest_seconds(self) -> dict[str, float]:
        """Each node's fastest benchmarked image, sampling and the rest of its work on an
        image (decoding the request, encoding the PNG, HTTP): what the bound holds it to."""
        return {name: min(times) for name, times in self.timed.items()}

    def deadline(self) -> float:
        return 6 * self.plain_bound() + self.scale.read_timeout + 30

    async def benchmark(self) -> None:
        """The speed benchmark of the static split and the bound, on fresh nodes with their
        own checkpoint."""
        await self.nodes.restart()
        body = txt2img_body(Job(id="-", run_id="-", index=0, prompt_index=0, seed=1,
                                spec=PromptSpec(prompt=PROMPT)), self.settings)  # fmt: skip
        self.timed = await benchmark_speeds(self.urls, body, self.scale.benchmark_images)

    async def measure(self, case: Case, policy: str) -> Measured:
        await self.nodes.restart()
        folder = self.out / f"{case.key}-{policy}"
        folder.mkdir(parents=True)
        run, jobs = plan_run(case.job_prompts(self.scale.images), self.settings, base_seed=1,
                             name=f"case {case.key}", folder=str(folder))  # fmt: skip
        records = None
        if policy == "engine":
            launcher = make_launcher(self.engine_home, self.urls, self.scale.client())
            launcher.queue.add_run(run, jobs)
            try:
                # As `stablenew run` prepares a run: its names checked against each node's
                # catalog, which the engine then checks answers against.
                await launcher.check_against_nodes(run.settings, [job.spec for job in jobs])
                started = time.monotonic()
                disturbance = asyncio.create_task(self.disturb(case, started))
                made = await run_engine(launcher, run, self.deadline())
            finally:
                await launcher.aclose()
            images_at, ended, notes = made.images_at, made.ended, [made.problem]
            records = read_jsonl(self.engine_home / "data" / RECORDS_NAME).objects
        else:
            if policy == "round-robin":
                shares = round_robin(jobs, list(SPEEDS))
            else:
                speeds = {node: 1 / seconds for node, seconds in self.mean_seconds().items()}
                shares = static_split(jobs, speeds)
            started = time.monotonic()
            disturbance = asyncio.create_task(self.disturb(case, started))
            split = await run_split(shares, self.urls, folder, self.settings,
                                    self.scale.read_timeout)  # fmt: skip
            images_at, ended = split.images_at, split.ended
            notes = [f"{node} stopped: {why}" for node, why in split.errors.items()]
        moment = await self.settle(disturbance, notes)
        loads = [(await self.nodes.status(name)).get("checkpoint_loads", 0) for name in SPEEDS]
        self.nodes.stop()  # also lets go of requests a hung node still holds
        last = max(images_at, default=started)
        return Measured(
            case, policy, makespan=last - started,
            bound=self.bound(case, moment, self.fastest_seconds()),
            nominal_bound=self.bound(case, moment, self.nominal_seconds()),
            loads=sum(loads), images=count_images(folder, [job.id for job in jobs], records),
            exit_after=ended - last if images_at else None, notes=[n for n in notes if n],
        )  # fmt: skip

    async def disturb(self, case: Case, started: float) -> float:
        """Do what the case does to its node at its moment; returns that moment (seconds after
        the start)."""
        if not case.event:
            return 0.0
        await asyncio.sleep(max(0.0, started + case.at * self.plain_bound() - time.monotonic()))
        moment = time.monotonic() - started
        if case.event == "speed":
            await self.nodes.set_speed(case.node, SPEEDS[case.node] / 2)
        elif case.event == "kill":
            await self.nodes.kill(case.node)
        else:
            await self.nodes.hang(case.node)
        return moment

    async def settle(self, disturbance: asyncio.Task[float], notes: list[str]) -> float | None:
        """The moment the case's event happened; None when the run ended before it."""
        if not disturbance.done():
            disturbance.cancel()
            notes.append("the run ended before the case's event")
            return None
        return disturbance.result()

    def bound(self, case: Case, moment: float | None, seconds: dict[str, float]) -> float:
        """The lower bound given what happened, each node making an image in `seconds[node]`
        until then. After a speed change its sampling takes twice as long (the rest of its time
        an image stays); after a kill it makes nothing more; after a hang, nothing more once
        the image it was making could have been answered."""
        image = self.scale.image_seconds
        profiles: list[SpeedProfile] = []
        for name, per_image in seconds.items():
            profile = [(0.0, image / per_image)]
            if moment is not None and name == case.node:
                if case.event == "speed":
                    profile.append((moment, image / (per_image + image / SPEEDS[name])))
                elif case.event == "kill":
                    profile.append((moment, 0.0))
                elif case.event == "hang":
                    profile.append((moment + per_image, 0.0))
            profiles.append(profile)
        return lower_bound(self.scale.images * image, self.scale.load_seconds, profiles)

    def nominal_seconds(self) -> dict[str, float]:
        """Seconds an image on each node at its set speed: sampling alone."""
        return {name: self.scale.image_seconds / speed for name, speed in SPEEDS.items()}


async def bench(scale: Scale, cases: list[Case], out: Path) -> None:
    # The engine's warnings (a stalled node, say) go to a file, not between the progress lines.
    logging.basicConfig(filename=out / "engine.log", level=logging.WARNING)
    runner = Bench(scale, out)
    try:
        await runner.benchmark()
        results = []
        for case in cases:
            for policy in POLICIES:
                results.append(await runner.measure(case, policy))
                print(f"  {case.key} {policy} done", flush=True)
    finally:
        await runner.nodes.aclose()
    loads = {node: scale.load_seconds / speed for node, speed in SPEEDS.items()}
    fastest = runner.fastest_seconds()
    best = best_split(scale.images, loads, fastest)
    undisturbed = runner.bound(CASES[0], None, fastest)
    print_report(scale, SPEEDS, runner.timed, (best, undisturbed), results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny work: checks, not figures")
    parser.add_argument("--cases", default="abcdef", help="which cases, e.g. ab (abcdef)")
    parser.add_argument("--images", type=int, help="images per case (300; quick: 12)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="write into DIR and keep it")
    args = parser.parse_args()
    scale = QUICK if args.quick else FULL
    if args.images:
        scale = dataclasses.replace(scale, images=args.images)
    unknown = set(args.cases) - {case.key for case in CASES}
    if unknown or not args.cases:
        parser.error(f"--cases takes letters from abcdef, not {args.cases!r}")
    cases = [case for case in CASES if case.key in args.cases]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        asyncio.run(bench(scale, cases, args.keep))
        return
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as out:
        asyncio.run(bench(scale, cases, Path(out)))


if __name__ == "__main__":
    main()
