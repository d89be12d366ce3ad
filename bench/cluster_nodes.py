"""The cluster benchmark's WebUI nodes: built-in simulators, each in a process of its own.

In one process the three servers, and the engine or the baseline clients beside them, would
share one interpreter lock; in their own processes a node's sampling sleeps and its PNG work
overlap the client's as on a real LAN, and the two cores are shared by the kernel. Everything
the benchmark does to a node is HTTP (speed, faults, status) or a signal (SIGKILL: the node
dies). Each run starts on fresh processes on the same ports, so every run begins from the
same state: the first checkpoint loaded, nothing logged, no load counted.

    python bench/cluster_nodes.py PORT SPEED LOAD_SCALE     # one node, until SIGTERM
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

START_TIMEOUT = 30.0
HANG_FOREVER = 1_000_000  # requests a hang fault holds: every one until the node is stopped


@dataclass
class SimNode:
    name: str
    speed: float
    port: int
    process: subprocess.Popen[bytes] | None = None
    last_status: dict[str, Any] = field(default_factory=dict)  # read before it was killed

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class SimNodes:
    """Simulated nodes at the given speeds, started and stopped together."""

    def __init__(self, speeds: dict[str, float], load_scale: float, log_dir: Path) -> None:
        self.nodes = [SimNode(name, speed, free_port()) for name, speed in speeds.items()]
        self.load_scale = load_scale
        self.log_dir = log_dir
        self._http = httpx.AsyncClient(timeout=10)

    def __getitem__(self, name: str) -> SimNode:
        return next(node for node in self.nodes if node.name == name)

    async def restart(self) -> None:
        self.stop()
        for node in self.nodes:
            log = (self.log_dir / f"{node.name}.log").open("ab")
            node.process = subprocess.Popen(
                [sys.executable, __file__, str(node.port), str(node.speed), str(self.load_scale)],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            log.close()  # the child holds its own descriptor
            node.last_status = {}
        await asyncio.gather(*(self._wait_ready(node) for node in self.nodes))

    async def _wait_ready(self, node: SimNode) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert node.process is not None
            if node.process.poll() is not None:
                raise RuntimeError(f"node {node.name} exited; see {self.log_dir}")
            with contextlib.suppress(httpx.TransportError):
                if (await self._http.get(f"{node.url}/sim/status")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"node {node.name} did not start within {START_TIMEOUT:g} s")

    async def status(self, name: str) -> dict[str, Any]:
        """The node's /sim/status; for a node that was killed, what it said just before."""
        node = self[name]
        if node.process is None or node.process.poll() is not None:
            return node.last_status
        answer = await self._http.get(f"{node.url}/sim/status")
        answer.raise_for_status()
        return dict(answer.json())

    async def set_speed(self, name: str, speed: float) -> None:
        answer = await self._http.post(f"{self[name].url}/sim/speed", json={"speed": speed})
        answer.raise_for_status()

    async def hang(self, name: str) -> None:
        """Every request but the polling ones is accepted and never answered from now on."""
        fault = {"kind": "hang", "count": HANG_FOREVER}
        answer = await self._http.post(f"{self[name].url}/sim/faults", json=fault)
        answer.raise_for_status()

    async def kill(self, name: str) -> None:
        """SIGKILL: the node vanishes mid-image, its connections reset, its port refuses."""
        node = self[name]
        node.last_status = await self.status(name)
        assert node.process is not None
        node.process.kill()
        node.process.wait()

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait()
                node.process = None

    async def aclose(self) -> None:
        self.stop()
        await self._http.aclose()


def free_port() -> int:
    """A port free now; the nodes bind it again after every restart (SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(port: int, speed: float, load_scale: float) -> None:
    from stablenew_tui.sim import SimServer  # only the node's process pays for the import

    async def until_terminated() -> None:
        stopped = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
        server = SimServer(flavor="a1111", speed=speed, port=port)
        server.webui.load_scale = load_scale
        async with server:
            await stopped.wait()

    asyncio.run(until_terminated())


if __name__ == "__main__":
    serve(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]))
