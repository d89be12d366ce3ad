"""Soak: runs killed or hit by a fault at a random moment, then resumed, then checked.

Each trial makes one run of `--images` images through txt2img → img2img → upscale with
`stablenew run` in its own process, against the built-in simulator (served from this process,
over real loopback HTTP), with its own data folder, and does one thing to it at a random
moment after the run started:
- kill: SIGKILL the process;
- 500: the server fails one request of a stage (a crash inside it): that image fails;
- 502: a proxy answers the next 1-4 requests with 502;
- oom: one request of a stage runs out of GPU memory (one node: that image fails);
- drop: one request of a stage loses its connection;
- hang: one generation is accepted and never answered (stall detection cuts it off);
- down: the server stops answering for 1-4 s;
- disk-full: the output folder is a small tmpfs that fills during the run (root only; else
  the trial is skipped); it is made larger before resuming.
Then `stablenew run --resume --retry-failed` until every image is made (at most 3 times), and
the checks of `soak_checks` run on the files. A trial passes when they find nothing and the
first process exited as its action calls for (0 when transient errors were waited out; 1 when
an image failed or the disk filled; killed; or 0 when the action came after the run ended).

    .venv/bin/python bench/soak.py [--trials 50] [--seed N] [--kinds kill,502,...] [--in-turn]
                                   [--images 4] [--window 1.0]

Prints a table of trials and outcomes, then the totals; exits 1 when any trial failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from soak_checks import Findings, check_run, job_statuses

from stablenew_tui.sim import SimServer
from stablenew_tui.sim.faults import FaultInjector
from stablenew_tui.sim.server import SimThread

KINDS = ("kill", "500", "502", "oom", "drop", "hang", "down", "disk-full")
STAGES = ("txt2img", "img2img", "upscale")
STAGE_ROUTES = ("txt2img", "img2img", "extra-single-image")
# Stall detection and the retry bound, short enough for a trial; the read timeout behind them.
CONFIG = """[client]
stall_timeout = 2
retry_seconds = 60
read_timeout = 60
"""
PROCESS_TIMEOUT = 120.0
RESUMES = 3
SIM_SPEED = 1.0  # 8 steps at 256x256 take about 0.13 s


@dataclass
class Trial:
    number: int
    kind: str
    action: str = ""
    first_exit: int | None = None
    expected_exit: int = 0
    resumes: int = 0
    counts: str = ""
    findings: Findings = field(default_factory=Findings)
    skipped: str = ""

    @property
    def passed(self) -> bool:
        return self.findings.faults == 0 and self.first_exit == self.expected_exit


def run_args(url: str, images: int, out: Path) -> list[str]:
    return [
        "run", "--node", url, "--prompt", "a lighthouse at dusk, {oil|ink|pastel}",
        "--images-per-prompt", str(images), "--stages", ",".join(STAGES), "--steps", "8",
        "--size", "256x256", "--upscaler", "Lanczos", "--scale", "2", "--out", str(out),
        "--json",
    ]  # fmt: skip


async def start(args: list[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "stablenew_tui", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def finish(process: asyncio.subprocess.Process) -> int:
    try:
        await asyncio.wait_for(process.communicate(), PROCESS_TIMEOUT)
    except TimeoutError:  # stuck: the checks will say what it left
        process.kill()
        await process.wait()
    return process.returncode if process.returncode is not None else -1


async def until_started(process: asyncio.subprocess.Process) -> bool:
    """Read events until the run has started; False when the process ended first."""
    assert process.stdout is not None
    while line := await asyncio.wait_for(process.stdout.readline(), PROCESS_TIMEOUT):
        if json.loads(line).get("event") == "run_started":
            return True
    return False


def fault_for(kind: str, rng: random.Random) -> tuple[Callable[[FaultInjector], object], str]:
    """How to arm `kind` on the simulator's fault injector (what its /sim/faults admin route
    does), and it in words."""
    route = rng.choice(STAGE_ROUTES)
    match kind:
        case "500":
            return lambda faults: faults.fail_next(1, path=route), f"500 on {route}"
        case "502":
            count = rng.randint(1, 4)
            return lambda faults: faults.fail_next(count, status=502), f"502 x{count}"
        case "oom":
            return lambda faults: faults.oom_next(1, path=route), f"out of memory on {route}"
        case "drop":
            return lambda faults: faults.drop_next(1, path=route), f"dropped {route}"
        case "hang":
            hung = rng.choice(STAGE_ROUTES[:2])  # generations: what reports progress
            return lambda faults: faults.hang_next(1, path=hung), f"hung {hung}"
        case "down":
            seconds = round(rng.uniform(1, 4), 1)
            return lambda faults: faults.down_now(seconds), f"down {seconds} s"
    raise ValueError(kind)


async def one_trial(number: int, kind: str, rng: random.Random, simulator: SimThread,
                    images: int, window: float) -> Trial:  # fmt: skip
    trial = Trial(number, kind)
    with tempfile.TemporaryDirectory(prefix="stablenew-soak-") as temp:
        home, out = Path(temp) / "home", Path(temp) / "out"
        home.mkdir()
        (home / "config.toml").write_text(CONFIG)
        env = {**os.environ, "STABLENEW_HOME": str(home)}
        if kind == "disk-full":
            size = f"{rng.randint(2, 6) * 32}k"  # room for some of the images, never all
            trial.skipped = mount_tmpfs(out, size)
            if trial.skipped:
                return trial
            trial.action, trial.expected_exit = f"disk of {size}", 1
        try:
            await act_and_resume(trial, rng, simulator, images, window, out, env)
            trial.findings = check_run(home / "data", only_folder(out), STAGES)
            statuses = job_statuses(home / "data")
            trial.counts = ", ".join(
                f"{list(statuses.values()).count(s)} {s}" for s in sorted(set(statuses.values()))
            )
        finally:
            if kind == "disk-full":
                subprocess.run(["umount", "-l", str(out)], capture_output=True)
    return trial


async def act_and_resume(trial: Trial, rng: random.Random, simulator: SimThread, images: int,
                         window: float, out: Path, env: dict[str, str]) -> None:  # fmt: skip
    sim_url = simulator.url
    process = await start(run_args(sim_url, images, out), env)
    if await until_started(process) and trial.kind != "disk-full":
        moment = rng.uniform(0, window)
        await asyncio.sleep(moment)
        trial.action, trial.expected_exit = act(trial.kind, rng, process, simulator.faults)
        trial.action += f" at {moment:.1f} s"
    trial.first_exit = await finish(process)
    if simulator.faults.pending:  # the run ended before the fault met a request
        trial.expected_exit, trial.action = 0, trial.action + " (missed)"
    simulator.faults.clear()  # and an outage ends
    if trial.kind == "disk-full":
        subprocess.run(["mount", "-o", "remount,size=64m", str(out)], check=True)
    while trial.resumes < RESUMES and any(
        status != "done" for status in job_statuses(Path(env["STABLENEW_HOME"]) / "data").values()
    ):
        trial.resumes += 1
        await finish(await start(["run", "--node", sim_url, "--resume", "--retry-failed"], env))


def act(kind: str, rng: random.Random, process: asyncio.subprocess.Process,
        faults: FaultInjector) -> tuple[str, int]:  # fmt: skip
    """Do `kind` to the running process; returns it in words and the exit it calls for."""
    if process.returncode is not None:
        return f"{kind} after the end", 0
    if kind == "kill":
        process.send_signal(signal.SIGKILL)
        return "SIGKILL", -signal.SIGKILL
    arm, words = fault_for(kind, rng)
    arm(faults)
    return words, 1 if kind in ("500", "oom") else 0


def mount_tmpfs(folder: Path, size: str) -> str:
    """Mount; the reason it cannot be done, if it cannot."""
    if os.geteuid() != 0:
        return "not root: no tmpfs"
    folder.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)]
    result = subprocess.run(mount, capture_output=True, text=True)
    return "" if result.returncode == 0 else f"mount refused: {result.stderr.strip()}"


def only_folder(out: Path) -> Path:
    (folder,) = (path for path in out.iterdir() if path.is_dir())
    return folder


async def baseline(sim_url: str, images: int) -> float:
    """How long an untouched run takes, from its start event to its end."""
    with tempfile.TemporaryDirectory(prefix="stablenew-soak-") as temp:
        home = Path(temp) / "home"
        home.mkdir()
        env = {**os.environ, "STABLENEW_HOME": str(home)}
        process = await start(run_args(sim_url, images, Path(temp) / "out"), env)
        await until_started(process)
        started = time.monotonic()
        if await finish(process) != 0:
            raise SystemExit("the untouched run failed: nothing to soak")
        return time.monotonic() - started


def result_of(trial: Trial) -> str:
    return f"skipped: {trial.skipped}" if trial.skipped else "ok" if trial.passed else "FAIL"


def table(trials: list[Trial]) -> str:
    head = ("trial", "action", "exit", "want", "resumes", "final", "lost", "dup", "torn",
            "sha", "part", "stuck", "rec", "redone", "result")  # fmt: skip
    rows = [head]
    for t in trials:
        f = t.findings
        result = result_of(t)
        rows.append((
            str(t.number), t.action or t.kind, str(t.first_exit), str(t.expected_exit),
            str(t.resumes), t.counts, str(f.lost), str(f.duplicated), str(f.torn),
            str(f.sha256), str(f.partial), str(f.stuck), str(f.records), str(f.redone), result,
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


async def soak(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    kinds = args.kinds.split(",")
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise SystemExit(f"unknown kinds: {', '.join(sorted(unknown))}; choose from {KINDS}")
    simulator = SimServer(speed=SIM_SPEED).start_in_thread()
    try:
        duration = await baseline(simulator.url, args.images)
        window = duration * args.window
        print(f"seed {args.seed}; untouched run of {args.images} images x {len(STAGES)} "
              f"stages: {duration:.1f} s after its start event; actions within "
              f"{window:.1f} s of the start")  # fmt: skip
        trials = []
        for number in range(1, args.trials + 1):
            kind = kinds[(number - 1) % len(kinds)] if args.in_turn else rng.choice(kinds)
            trial = await one_trial(number, kind, rng, simulator, args.images, window)
            trials.append(trial)
            print(f"trial {number}/{args.trials}: {trial.action or kind}: "
                  f"{result_of(trial)}", flush=True)  # fmt: skip
    finally:
        simulator.stop()
    ran = [t for t in trials if not t.skipped]
    failed = [t for t in ran if not t.passed]
    images = sum(args.images * len(STAGES) for _ in ran)
    print()
    print(table(trials))
    totals = Findings()
    for t in ran:
        for name in vars(totals):
            setattr(totals, name, getattr(totals, name) + getattr(t.findings, name))
    print(
        f"\n{len(ran)} trials ({len(trials) - len(ran)} skipped), {images} images checked: "
        f"{totals.lost} lost, {totals.duplicated} duplicated, {totals.torn} torn, "
        f"{totals.sha256} sha256 mismatches, {totals.partial} partial, {totals.stuck} stuck, "
        f"{totals.records} record mismatches, {totals.redone} lines redone; "
        f"{len(failed)} trial(s) failed"
    )
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated")
    parser.add_argument("--in-turn", action="store_true", help="kinds in turn, not at random")
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument(
        "--window", type=float, default=1.0,
        help="act within this fraction of an untouched run's length (default 1: all of it)",
    )  # fmt: skip
    return asyncio.run(soak(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
