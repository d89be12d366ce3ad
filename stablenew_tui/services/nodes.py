"""Seeing the cluster: what each node is (state, server, loaded model), how fast it is, and
what it has made; and probing an address before it is used as a node.

Everything here talks to the nodes through the WebUI client and its catalog, the same code a
run uses, so what `stablenew nodes` says is what a run will meet.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stablenew_tui.config import ClientConfig, NodeConfig, redact_url
from stablenew_tui.errors import InputError, first_problem
from stablenew_tui.pipeline.events import NodeStatus
from stablenew_tui.pipeline.launch import QUEUE_NAME
from stablenew_tui.pipeline.monitor import NodeState, activity
from stablenew_tui.pipeline.node_tally import NodeTally, node_tallies
from stablenew_tui.pipeline.speed_model import SPEEDS_NAME, SpeedBook
from stablenew_tui.webui.client import WebUIClient
from stablenew_tui.webui.errors import (
    WebUIBadAnswer,
    WebUIError,
    WebUINoApi,
    WebUIUnauthorized,
)
from stablenew_tui.webui.models import ServerInfo
from stablenew_tui.webui.resources import MODEL_FILE_SUFFIXES, fetch_catalog

AUTH_REFUSED = "AUTH REFUSED"
REFERENCE_MEGAPIXELS = 512 * 512 / 1e6
NO_API = "NO API"


def node_from_url(
    url: str, *, user: str | None = None, password_env: str | None = None, what: str = "URL"
) -> NodeConfig:
    """A node for `url`, or InputError naming `what` and what is wrong with it."""
    if password_env is not None and password_env not in os.environ:
        raise InputError(f"--password-env {password_env}: no such environment variable is set")
    try:
        return NodeConfig(url=url, user=user, password_env=password_env)
    except ValidationError as error:
        _, _, message = first_problem(error)
        raise InputError(f"{what} {redact_url(url)}: {message}") from None


def state_of(error: WebUIError) -> str:
    """The state a node is in when asking it fails with `error`."""
    if isinstance(error, WebUIUnauthorized):
        return AUTH_REFUSED
    if isinstance(error, WebUINoApi | WebUIBadAnswer):
        return NO_API
    return NodeState.DISCONNECTED


@dataclass(frozen=True)
class NodeReport:
    """One node as `stablenew nodes` shows it."""

    name: str
    url: str
    state: str
    detail: str = ""  # why it is not READY or BUSY
    server: ServerInfo | None = None
    model: str = ""
    speed: float | None = None  # steps per second at 512×512 (see `speed_text`)
    tally: NodeTally = field(default_factory=NodeTally)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "url": self.url, "state": self.state, "detail": self.detail,
            "flavor": self.server.flavor if self.server else None,
            "version": self.server.version if self.server else None,
            "model": self.model or None, "steps_per_second": self.speed,
            "done": self.tally.done, "failed": self.tally.failed,
        }  # fmt: skip


async def report_nodes(
    nodes: list[NodeConfig], settings: ClientConfig, data_dir: Path
) -> list[NodeReport]:
    """Every node looked at once, all at the same time, with its speed as measured in earlier
    runs and what the queue says it made."""
    tallies = await asyncio.to_thread(node_tallies, data_dir / QUEUE_NAME)
    speeds = SpeedBook.load(data_dir / SPEEDS_NAME)
    looks = await asyncio.gather(*(_look_at(node, settings) for node in nodes))
    reports = []
    for node, (state, detail, server, model) in zip(nodes, looks, strict=True):
        tally = tallies.get(node.name, NodeTally())
        speed = steps_per_second(speeds, node.name)
        reports.append(NodeReport(node.name, node.url, state, detail, server, model, speed, tally))
    return reports


async def _look_at(
    node: NodeConfig, settings: ClientConfig
) -> tuple[str, str, ServerInfo | None, str]:
    async with WebUIClient(node, settings) as client:
        try:
            server = await client.server_info(refresh=True)
            state, model = await activity(client)
        except WebUIError as error:
            return state_of(error), error.message, None, ""
    return state, "", server, model


def short_model(title: str) -> str:
    """`SDXL/juggernaut.safetensors [abc]` → `juggernaut`: the part a person recognises. Only
    a model file's suffix goes: SD.Next titles `sd_xl_base_1.0` have none."""
    name = re.split(r"[\\/]", title.split(" [", 1)[0])[-1]
    stem, dot, suffix = name.rpartition(".")
    return stem if dot and f".{suffix.lower()}" in MODEL_FILE_SUFFIXES else name


def steps_per_second(speeds: SpeedBook, node: str) -> float | None:
    """The node's pace in the unit WebUI users compare GPUs by: sampling steps per second
    at 512×512 (the speed model counts megapixel-steps per second)."""
    rate = speeds.rate(node)
    return None if rate is None else rate / REFERENCE_MEGAPIXELS


SPEED_HEADER = "it/s"


def cut_name(name: str, width: int) -> str:
    """A node's name in `width` cells, cut in the middle: names made from URLs differ at the
    end (the port), so the end stays."""
    if len(name) <= width:
        return name
    if width < 2:
        return "…"[:width]
    head = (width - 1) // 2
    return name[:head] + "…" + name[len(name) - (width - 1 - head) :]


def speed_text(speed: float | None) -> str:
    """`3.8` (under SPEED_HEADER: steps per second at 512×512); `—` while the node has none
    measured."""
    return "—" if speed is None else f"{speed:.1f}"


# -- the Nodes tab ---------------------------------------------------------------------------

DRAINED, DRAINING = "DRAINED", "DRAINING"
OUT = "OUT"  # its breaker took it out of the run: it answers, but gets no job for a while
RESTING = "resting after failed jobs in a row"


@dataclass(frozen=True)
class NodeRow:
    """One node as the Nodes tab shows it, from what the session already knows: no request
    is made to draw it."""

    name: str
    state: str  # the monitor's, or DRAINING / DRAINED / OUT
    doing: str  # the image and stage it makes, with its progress; or why it does not answer
    model: str
    speed: float | None
    tally: NodeTally


def board_rows(
    statuses: dict[str, NodeStatus],
    activity: dict[str, str],
    drained: set[str],
    speeds: SpeedBook,
    tallies: dict[str, NodeTally],
    out: set[str] | frozenset[str] = frozenset(),
) -> list[NodeRow]:
    """`out`: the nodes the run's breaker has taken out."""
    rows = []
    for name, status in statuses.items():
        doing = activity.get(name, "")
        state = status.state
        answering = status.state in (NodeState.READY, NodeState.BUSY)
        if name in drained:
            state = DRAINING if doing else DRAINED
        elif name in out:  # whatever its monitor or the engine said last: the breaker rules
            state, doing, answering = OUT, RESTING, True
        rows.append(NodeRow(
            name, state, doing if answering else status.detail,
            short_model(status.model) if answering else "", steps_per_second(speeds, name),
            tallies.get(name, NodeTally()),
        ))  # fmt: skip
    return rows


# -- probing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    what: str  # reachable, auth, API, server, models
    ok: bool
    text: str


@dataclass(frozen=True)
class ProbeReport:
    url: str
    checks: list[Check]

    @property
    def usable(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def reachable(self) -> bool:
        return bool(self.checks) and self.checks[0].ok

    @property
    def problem(self) -> str:
        """The first check that failed, in words; empty when usable."""
        failed = next((check for check in self.checks if not check.ok), None)
        return f"{failed.what}: {failed.text}" if failed else ""

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url, "usable": self.usable,
            "checks": [{"check": c.what, "ok": c.ok, "text": c.text} for c in self.checks],
        }  # fmt: skip


async def probe(node: NodeConfig, settings: ClientConfig) -> ProbeReport:
    """Check, in order, that `node` answers, takes our credentials, serves the WebUI API,
    which server it is, and that it has checkpoints to draw with. Checks stop at the first
    that fails: the later ones could not be made."""
    async with WebUIClient(node, settings) as client:
        try:
            server = await client.server_info(refresh=True)
        except WebUIError as error:
            return ProbeReport(node.url, _failed_probe(node, error))
        user = node.basic_auth()
        checks = [
            Check("reachable", True, f"{node.url} answers"),
            Check("auth", True, f"accepted for user {user[0]!r}" if user else "none needed"),
            Check("API", True, "the WebUI API answers"),
            Check("server", True, f"{server.describe()} ({server.flavor})"),
        ]
        try:
            catalog = await fetch_catalog(client)
        except WebUIError as error:
            return ProbeReport(node.url, [*checks, Check("models", False, error.message)])
    count = len(catalog.models)
    text = f"{count} checkpoint(s), {len(catalog.samplers)} sampler(s)"
    checks.append(Check("models", count > 0, text if count else "no checkpoint to draw with"))
    return ProbeReport(node.url, checks)


def _failed_probe(node: NodeConfig, error: WebUIError) -> list[Check]:
    """What a failed first look says: which check passed, and which one `error` fails."""
    answers = Check("reachable", True, f"{node.url} answers")
    if isinstance(error, WebUIUnauthorized):
        return [answers, Check("auth", False, f"refused: {error.message}")]
    if isinstance(error, WebUINoApi | WebUIBadAnswer):
        return [answers, Check("API", False, error.message)]
    return [Check("reachable", False, error.message)]
