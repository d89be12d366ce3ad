"""`stablenew run` as a user runs it: a real subprocess against a real simulator."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from stablenew_tui.learning.records import read_records
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.lastrun import LAST_RUN_NAME
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import manifest, posted

STABLENEW = [sys.executable, "-m", "stablenew_tui"]


def stablenew(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*STABLENEW, *args], capture_output=True, text=True, timeout=timeout, env=os.environ
    )


async def stablenew_async(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *STABLENEW, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-pack"], "no pack named 'no-such-pack' in "),
        (["a {red|blue} fox"], "use --prompt for prompt text"),
        (["--prompt", "x", "--size", "big"], "--size 'big': expected WIDTHxHEIGHT"),
        (["--prompt", "x", "--stages", "txt2img,paint"], "unknown stage 'paint'"),
        (["--prompt", "x", "--steps", "0"], "txt2img.steps: Input should be greater than"),
        (["--prompt", "x", "--bogus"], "unrecognized arguments: --bogus"),
        ([], "nothing to run"),
        (["--resume"], "nothing to resume"),
        (["--prompt", "x", "--max-prompts", "0"], "--max-prompts must be 1 or more, not 0"),
        (["--prompt", "x", "--max-prompts", "-1"], "--max-prompts must be 1 or more, not -1"),
        (["--prompt", "x", "--cfg", "nan"], "txt2img.cfg_scale: Input should be a finite number"),
        (["--prompt", "{0$$a|b}"], "prompt:1: template '{0$$a|b}' draws an empty prompt for"),
        (["{tmp}/deep.json"], "deep.json: nested too deeply"),
        (["{tmp}/pack.toml"], "pack.toml:4: overrides.txt2img.steps: Input should be a valid"),
        (["--config", "{tmp}/config.toml", "--prompt", "x"], "config.toml:3: stages.txt2img."),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, tmp_path):
    (tmp_path / "deep.json").write_text('{"prompts": ' + "[" * 6000 + "]" * 6000 + "}")
    (tmp_path / "pack.toml").write_text('prompts = ["x"]\n\n[overrides.txt2img]\nsteps = "many"\n')
    (tmp_path / "config.toml").write_text('[stages.txt2img]\nsampler = "Euler"\nsteps = "many"\n')
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    result = stablenew("run", "--node", "http://127.0.0.1:9", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("node", ["127.0.0.1:7860", "localhost:7860"])
def test_a_node_without_scheme_says_what_to_write(node):
    result = stablenew("run", "--node", node, "--prompt", "x")
    assert result.returncode == 2
    assert result.stderr == (
        f"stablenew: --node {node}: node URL must start with http:// or https://, "
        f"e.g. http://{node}\n"
    )


def test_unreachable_node_exits_1_without_traceback():
    result = stablenew("run", "--node", "http://127.0.0.1:9", "--prompt", "x")
    assert result.returncode == 1
    assert "cannot connect to http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


async def test_json_events_and_exit_code_for_failures():
    async with SimServer(speed=0) as sim:
        sim.faults.oom_next(1, path="txt2img")
        process = await stablenew_async(
            "run", "--node", sim.url, "--prompt", "a fox", "--images-per-prompt", "2",
            "--steps", "2", "--size", "64x64", "--json",
        )  # fmt: skip
        stdout, stderr = await process.communicate()
    assert process.returncode == 1, stderr.decode()
    events = [json.loads(line) for line in stdout.decode().splitlines()]
    kinds = [event["event"] for event in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert kinds.count("job_done") == 1 and kinds.count("job_failed") == 1
    assert events[-1]["counts"] == {"done": 1, "failed": 1}


async def test_kill_9_mid_batch_then_resume_makes_every_image_exactly_once():
    images = 12
    async with SimServer(speed=1) as sim:
        process = await stablenew_async(
            "run", "--node", sim.url, "--prompt", "a lighthouse at dusk",
            "--images-per-prompt", str(images), "--stages", "txt2img,upscale",
            "--steps", "10", "--size", "256x256", "--upscaler", "Lanczos", "--scale", "2",
        )  # fmt: skip
        folder = await _wait_for_run_folder_with_lines(minimum=4)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        done_before = {line["job_id"] for line in manifest(folder)}
        assert 0 < len(done_before) < images, "killed mid-batch"

        resumed = await stablenew_async("run", "--node", sim.url, "--resume")
        _stdout, stderr = await resumed.communicate()
    assert resumed.returncode == 0, stderr.decode()

    lines = manifest(folder)
    keys = [(line["job_id"], line["stage"]) for line in lines]
    assert len(keys) == len(set(keys)) == images * 2, "each image once in the manifest"
    for stage in ("txt2img", "upscale"):
        files = sorted((folder / stage).iterdir())
        assert len(files) == images, f"{stage}: {len(files)} files"
        assert all(path.suffix == ".png" for path in files)
    leftovers = [p for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".part"]
    assert leftovers == [], "no temp or partial files"
    records = read_records(AppPaths.from_environment().data_dir / "records.jsonl").records
    record_keys = [(r["job_id"], r["stage"]) for r in records]
    assert sorted(record_keys) == sorted(keys)


async def _wait_for_run_folder_with_lines(minimum: int) -> Path:
    output_root = AppPaths.from_environment().default_output_root
    for _ in range(600):
        folders = list(output_root.glob("*")) if output_root.exists() else []
        if folders and len(manifest(folders[0])) >= minimum:
            return folders[0]
        await asyncio.sleep(0.05)
    raise AssertionError("the run never got going")


def test_run_demo_end_to_end():
    result = stablenew(
        "run", "--demo", "--prompt", "a lighthouse at dusk", "--images-per-prompt", "2",
        "--stages", "txt2img,img2img,upscale", "--steps", "6",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (folder,) = AppPaths.from_environment().default_output_root.iterdir()
    for stage in ("txt2img", "img2img", "upscale"):
        assert len(list((folder / stage).glob("*.png"))) == 2
    assert len(manifest(folder)) == 6
    assert "run finished: 2 done" in result.stdout


def test_resources_demo_lists_everything():
    result = stablenew("resources", "--demo")
    assert result.returncode == 0, result.stderr
    for heading in ("models (", "vaes (", "samplers (", "schedulers (", "upscalers (", "loras ("):
        assert heading in result.stdout
    as_json = stablenew("resources", "--demo", "--json")
    (node,) = json.loads(as_json.stdout)
    assert node["source"] == "api" and node["models"] and node["schedulers_supported"]


async def _started_slow_run(sim) -> asyncio.subprocess.Process:
    """A run of three ~2 s images, returned once the first image is being made."""
    process = await stablenew_async(
        "run", "--node", sim.url, "--prompt", "a slow lighthouse", "--images-per-prompt", "3",
        "--steps", "30", "--size", "512x512",
    )  # fmt: skip
    while b"txt2img started" not in await asyncio.wait_for(process.stdout.readline(), 60):
        pass
    return process


async def test_ctrl_c_once_finishes_the_current_image_and_stops():
    async with SimServer(speed=1) as sim:
        process = await _started_slow_run(sim)
        process.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 130, stderr.decode()
    assert "stopping after the current image" in stdout.decode()
    assert "Traceback" not in stderr.decode()
    (folder,) = AppPaths.from_environment().default_output_root.iterdir()
    assert len(manifest(folder)) == 1, "the image being made was finished"


async def test_ctrl_c_twice_interrupts_the_current_image():
    async with SimServer(speed=1) as sim:
        process = await _started_slow_run(sim)
        process.send_signal(signal.SIGINT)
        await asyncio.sleep(0.2)
        process.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
        interrupts = [r for r in sim.requests if r.path.endswith("/interrupt")]
    assert process.returncode == 130, stderr.decode()
    assert "interrupted; it stays queued" in stdout.decode()
    assert len(interrupts) == 1
    (folder,) = AppPaths.from_environment().default_output_root.iterdir()
    assert manifest(folder) == [] and not list(folder.rglob("*.png"))


def test_output_cut_short_by_its_reader_is_not_a_traceback():
    reader = subprocess.Popen(
        [*STABLENEW, "resources", "--demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    reader.stdout.readline()
    reader.stdout.close()  # like `| head -1`
    _, stderr = reader.communicate(timeout=60)
    assert "Traceback" not in stderr.decode()
    assert reader.returncode in (0, 141)


async def _small_run(sim, *args: str) -> tuple[int, str]:
    process = await stablenew_async("run", "--node", sim.url, "--size", "64x64", *args)
    stdout, stderr = await process.communicate()
    return process.returncode, stdout.decode() + stderr.decode()


def _last_run_settings() -> dict:
    path = AppPaths.from_environment().data_dir / LAST_RUN_NAME
    return tomllib.loads(path.read_text(encoding="utf-8"))["settings"]


async def test_a_seed_flag_is_remembered_and_a_run_reusing_it_says_so(sim):
    code, _ = await _small_run(sim, "--prompt", "a fox", "--steps", "2", "--seed", "123")
    assert code == 0 and _last_run_settings()["txt2img"]["seed"] == 123
    code, output = await _small_run(sim, "--prompt", "a fox")
    assert code == 0, output
    assert "seed 123, remembered from the last run; --seed -1 draws a random one" in output
    code, output = await _small_run(sim, "--prompt", "a fox", "--seed", "-1")
    assert code == 0 and "remembered from the last run" not in output
    assert _last_run_settings()["txt2img"]["seed"] == -1, "a random seed is never remembered"
    code, output = await _small_run(sim, "--prompt", "a fox")
    assert code == 0 and "remembered from the last run" not in output
    seeds = [body["seed"] for body in posted(sim, "txt2img")]
    assert seeds[:2] == [123, 123]
    assert 123 not in seeds[2:] and seeds[2] != seeds[3]


async def test_the_last_run_is_saved_when_the_run_ends_even_without_an_image(sim):
    sim.faults.oom_next(1, path="txt2img")
    code, output = await _small_run(sim, "--prompt", "a fox", "--steps", "9")
    assert code == 1, output
    assert _last_run_settings()["txt2img"]["steps"] == 9


async def test_a_failure_line_names_the_node_once(sim):
    sim.faults.oom_next(1, path="txt2img")
    code, output = await _small_run(sim, "--prompt", "a fox", "--steps", "2")
    assert code == 1
    (line,) = [line for line in output.splitlines() if "FAILED" in line]
    node = sim.url.removeprefix("http://")
    assert line.count(node) == 1, line
    assert f"[{node}] image 1 FAILED in txt2img: txt2img rejected (500): " in line
