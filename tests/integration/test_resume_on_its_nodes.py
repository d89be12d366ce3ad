"""`stablenew run --resume` goes back to the nodes the run was started with, unless told others."""

from __future__ import annotations

import asyncio
import signal
import sqlite3

from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import QUEUE_NAME
from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import manifest, posted
from tests.integration.test_run_cli import stablenew_async

IMAGES = 6
SLOW = ("--steps", "20", "--size", "256x256")


async def _interrupted_run(*node_args: str):
    """A run stopped with Ctrl-C after its first image: the rest stay queued. Its folder."""
    process = await stablenew_async(
        "run", *node_args, "--prompt", "a lighthouse", "--images-per-prompt", str(IMAGES), *SLOW
    )
    output_root = AppPaths.from_environment().default_output_root
    for _ in range(1200):
        folders = list(output_root.glob("*")) if output_root.exists() else []
        if folders and manifest(folders[0]):
            break
        await asyncio.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = await process.communicate()
    assert process.returncode == 130, stderr.decode()
    (folder,) = folders
    assert 0 < len(manifest(folder)) < IMAGES, "stopped with images left to make"
    return folder


async def _resume(*args: str) -> tuple[int, str]:
    process = await stablenew_async("run", "--resume", *args)
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout.decode() + stderr.decode()


async def test_resume_without_a_node_goes_back_to_the_runs_node_and_says_so():
    async with SimServer(speed=1) as sim:
        folder = await _interrupted_run("--node", sim.url)
        code, output = await _resume()
        sent = len(posted(sim, "txt2img"))
    assert code == 0, output
    assert f"where it was started: {sim.url} (--node to use others)" in output
    assert len(manifest(folder)) == sent == IMAGES


async def test_resume_with_a_node_makes_the_rest_there():
    async with SimServer(speed=1) as first, SimServer(speed=0) as second:
        folder = await _interrupted_run("--node", first.url)
        made_first = len(posted(first, "txt2img"))
        code, output = await _resume("--node", second.url)
        assert len(posted(first, "txt2img")) == made_first, "nothing more on the run's own node"
        assert len(posted(second, "txt2img")) == IMAGES - made_first
    assert code == 0, output
    assert "where it was started" not in output
    assert len(manifest(folder)) == IMAGES


async def test_a_run_keeps_its_nodes_without_their_credentials_and_asks_for_them_again():
    async with SimServer(speed=1, auth="painter:hunter2") as sim:
        host = sim.url.removeprefix("http://")
        await _interrupted_run("--node", f"http://painter:hunter2@{host}")
        queue = AppPaths.from_environment().data_dir / QUEUE_NAME
        with sqlite3.connect(queue) as db:
            stored = "\n".join(str(row) for row in db.execute("SELECT * FROM runs"))
        code, output = await _resume()
    assert "hunter2" not in stored and "painter" not in stored
    assert host in stored
    assert code == 2
    assert output.strip().endswith(
        f"was made on {host} with credentials, which runs do not keep: resume it with --node "
        "and its user and password, or with the node in the config"
    )
