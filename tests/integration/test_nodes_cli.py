"""`stablenew nodes` and `stablenew nodes probe` as a user runs them: a real subprocess against
simulators on loopback, and the images counted from a real queue."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from stablenew_tui.config import load_config
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import RunLauncher, RunRequest
from stablenew_tui.sim import SimServer
from tests.integration.conftest import FLAVORS
from tests.integration.pipeline_helpers import run_to_end

STABLENEW = [sys.executable, "-m", "stablenew_tui"]
SMALL = {"images_per_prompt": 4, "txt2img": {"steps": 2, "width": 64, "height": 64, "seed": 5}}


def stablenew(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*STABLENEW, *args], capture_output=True, text=True, timeout=60,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


@pytest.fixture
def started():
    """Simulators served from threads, so the blocking CLI subprocess can reach them."""
    servers = []

    def start(flavor: str = "a1111", **options) -> SimServer:
        server = SimServer(flavor, speed=0, **options).start_in_thread()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("flavor", FLAVORS)
def test_probe_names_the_server_of_every_flavor(started, flavor):
    server = started(flavor)
    result = stablenew("nodes", "probe", server.url, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    checks = {check["check"]: check for check in report["checks"]}
    assert report["usable"] and list(checks) == ["reachable", "auth", "API", "server", "models"]
    assert checks["auth"]["text"] == "none needed"
    expected = {"a1111": "AUTOMATIC1111 v1.10.1", "a1111-1.8": "AUTOMATIC1111 v1.8.0",
                "forge": "Forge f2.0.1", "sdnext": "SD.Next 2026-07-23"}[flavor]  # fmt: skip
    assert checks["server"]["text"].startswith(expected)
    assert checks["models"]["ok"] and "checkpoint(s)" in checks["models"]["text"]


def test_probe_with_auth_says_whether_the_credentials_were_taken(started):
    server = started(auth="ann:s3cret-pw")
    refused = stablenew("nodes", "probe", server.url)
    assert refused.returncode == 1
    assert "✓ reachable" in refused.stdout
    assert "✗ auth       refused: a user and password are required" in refused.stdout
    assert refused.stdout.rstrip().splitlines()[-1].startswith("verdict: not usable: auth")

    wrong = stablenew(
        "nodes", "probe", server.url, "--user", "ann", "--password-env", "PW", env={"PW": "nope"}
    )
    assert wrong.returncode == 1 and "were not accepted" in wrong.stdout

    taken = stablenew(
        "nodes", "probe", server.url, "--user", "ann", "--password-env", "PW",
        env={"PW": "s3cret-pw"},
    )  # fmt: skip
    assert taken.returncode == 0, taken.stdout
    assert "✓ auth       accepted for user 'ann'" in taken.stdout
    assert "verdict: usable as a node" in taken.stdout
    assert "s3cret-pw" not in taken.stdout + taken.stderr + wrong.stdout + wrong.stderr


def test_probe_of_an_address_where_nothing_listens_exits_1():
    url = closed_port_url()
    result = stablenew("nodes", "probe", url)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1] == f"  ✗ reachable  cannot connect to {url} (connection refused)"
    assert len(lines) == 3, "no check after the one that failed"


def test_probe_of_a_webui_without_its_api_says_to_start_it_with_api(started):
    server = started(api=False)
    result = stablenew("nodes", "probe", server.url)
    assert result.returncode == 1
    assert "✗ API" in result.stdout and "start the WebUI with --api" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://gpu1:7860"], "URL ftp://gpu1:7860: node URL must start with http:// or https://"),
        (["gpu1:7860"], "node URL must start with http:// or https://, e.g. http://gpu1:7860"),
        (["http://gpu1:7860/sdapi/v1"], "a page of the WebUI's API, not its address"),
        (["http://x", "--password-env", "NO_SUCH_VAR_X"], "--password-env NO_SUCH_VAR_X: no such"),
    ],
)
def test_probe_of_a_bad_url_exits_2_with_one_line(args, message):
    result = stablenew("nodes", "probe", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr


def _config(path: Path, nodes: dict[str, str]) -> Path:
    path.write_text("".join(f'[[nodes]]\nname = "{n}"\nurl = "{u}"\n\n' for n, u in nodes.items()))
    return path


def _make_images(config_path: Path, failing: SimServer) -> None:
    """A run over the config's nodes; `failing` refuses one image for good."""
    failing.faults.add("fail", path="txt2img", status=500, message="broken checkpoint")
    config = load_config(config_path)

    async def run() -> None:
        launcher = RunLauncher(config, AppPaths.from_environment(), config.nodes)
        try:
            await run_to_end(launcher, RunRequest(prompt="a fox", flags=SMALL))
        finally:
            await launcher.aclose()

    asyncio.run(run())


def test_nodes_shows_each_node_with_its_server_model_and_images(started, tmp_path):
    a1111, forge = started("a1111"), started("forge")
    _make_images(_config(tmp_path / "one.toml", {"gpu-a": a1111.url}), failing=a1111)
    nodes = {"gpu-a": a1111.url, "gpu-forge-with-a-long-name": forge.url, "gone": closed_port_url()}
    config = _config(tmp_path / "all.toml", nodes)

    result = stablenew("nodes", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    nodes = {node["name"]: node for node in json.loads(result.stdout)}
    assert nodes["gpu-a"]["state"] == "READY" and nodes["gpu-a"]["flavor"] == "a1111"
    assert (nodes["gpu-a"]["done"], nodes["gpu-a"]["failed"]) == (3, 1)
    assert nodes["gpu-a"]["steps_per_second"] > 0, "measured by the run"
    forge_node = nodes["gpu-forge-with-a-long-name"]
    assert forge_node["flavor"] == "forge" and forge_node["version"].startswith("f2.0.1")
    assert forge_node["model"] and (forge_node["done"], forge_node["failed"]) == (0, 0)
    assert forge_node["steps_per_second"] is None
    assert nodes["gone"]["state"] == "DISCONNECTED"
    assert "connection refused" in nodes["gone"]["detail"]

    table = stablenew("nodes", "--config", str(config)).stdout.splitlines()
    assert len(table) == 4 and all(len(line) <= 80 for line in table), table
    assert table[0].split() == ["node", "state", "server", "model", "it/s", "done", "fail"]
    assert table[1].split()[:4] == ["gpu-a", "READY", "A1111", "v1.10.1"]
    assert float(table[1].split()[-3]) > 0 and table[1].split()[-2:] == ["3", "1"]
    assert table[2].split()[-3:] == ["—", "0", "0"], "never used: no speed yet"
    assert table[2].startswith("gpu-f…g-name READY        Forge f2.0.1"), "cut in the middle"
    assert table[3].startswith("gone         DISCONNECTED cannot connect to")


def test_nodes_exits_1_when_no_node_answers(started, tmp_path):
    gone = _config(tmp_path / "gone.toml", {"gone": closed_port_url(), "also": closed_port_url()})
    result = stablenew("nodes", "--config", str(gone))
    assert result.returncode == 1, result.stdout
    assert "DISCONNECTED" in result.stdout, "the table says why"

    one_answers = {"gone": closed_port_url(), "gpu": started().url}
    result = stablenew("nodes", "--config", str(_config(tmp_path / "one.toml", one_answers)))
    assert result.returncode == 0, result.stdout


def test_node_options_before_the_command_name_apply_as_after_it(started, tmp_path):
    sim = started()
    before = stablenew("--node", sim.url, "nodes", "--json")
    assert before.returncode == 0, before.stderr
    assert [node["url"] for node in json.loads(before.stdout)] == [sim.url]

    config = _config(tmp_path / "one.toml", {"gpu": sim.url})
    from_config = stablenew("--config", str(config), "nodes", "--json")
    assert [node["name"] for node in json.loads(from_config.stdout)] == ["gpu"]

    demo = stablenew("--demo", "nodes", "--json")
    assert [node["name"] for node in json.loads(demo.stdout)] == ["demo"]
