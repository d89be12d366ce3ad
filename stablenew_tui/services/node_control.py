"""Steering the cluster during a session: drain a node (it finishes the image it is making,
then takes no more), undrain it, or add a node by its URL.

A node added here joins the run being made at once and stays in the pool for the session's
later runs; it is not written to the config. An address the config's `[[nodes]]` list has is
added as listed there: its name, credentials and limits. It is probed first (see `nodes.probe`): an
address that does not answer, refuses the credentials or has no checkpoint is refused with
the reason, rather than handed jobs it would fail.
"""

from __future__ import annotations

from stablenew_tui.errors import InputError, StableNewError
from stablenew_tui.pipeline.launch import RunLauncher
from stablenew_tui.pipeline.monitor import NodeMonitor
from stablenew_tui.services.nodes import node_from_url, probe


class NodeControl:
    def __init__(self, launcher: RunLauncher, monitor: NodeMonitor) -> None:
        self._pool = launcher.pool
        self._workers = launcher.engine.workers
        self._settings = launcher.config.client
        self._configured = launcher.config.nodes
        self._monitor = monitor

    @property
    def drained(self) -> set[str]:
        return self._workers.drained

    def drain(self, node: str) -> None:
        """`node` finishes the image it is making, then takes no more until undrained."""
        self._known(node)
        self._workers.drain(node)

    def undrain(self, node: str) -> None:
        self._known(node)
        self._workers.undrain(node)

    def _known(self, node: str) -> None:
        if node not in {handle.name for handle in self._pool.handles}:
            raise InputError(f"no node named {node!r} in this session")

    async def add(self, url: str) -> str:
        """Probe the node at `url` and add it for this session; what happened, in words.
        InputError for a bad URL or one in the pool already; StableNewError when the node
        cannot serve."""
        node = node_from_url(url.strip(), what="node URL")
        node = next((known for known in self._configured if known.url == node.url), node)
        report = await probe(node, self._settings)
        if not report.usable:
            raise StableNewError(f"{node.url} not added: {report.problem}")
        handle = self._pool.add(node)
        self._monitor.watch(handle)
        if self._workers.join(handle):
            return f"{node.name} joined the run being made"
        return f"{node.name} added: it takes images from the next run on"
