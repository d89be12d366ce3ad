"""The nodes a run was started with, kept with the run so that resuming it goes back to them.

Only names and URLs are kept: a node's URL never holds credentials (`NodeConfig` moves them
out), and they are never written anywhere. A node that had some is marked, so that resuming on
it without them asks for them instead of failing at its first request.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from stablenew_tui.config import NodeConfig
from stablenew_tui.errors import InputError, first_problem
from stablenew_tui.pipeline.jobs import Run

RUN_NODES = "nodes"  # the key in a run's `source`


def nodes_record(nodes: list[NodeConfig]) -> list[dict[str, Any]]:
    return [
        {
            "name": node.name,
            "url": node.url,
            **({"credentials": True} if node.user or node.password or node.password_env else {}),
        }
        for node in nodes
    ]


def recorded_nodes(run: Run) -> list[NodeConfig]:
    """The nodes `run` was started with; none for a run planned before runs kept them."""
    entries = run.source.get(RUN_NODES) or []
    with_credentials = [entry["name"] for entry in entries if entry.get("credentials")]
    if with_credentials:
        raise InputError(
            f"run {run.id} was made on {', '.join(with_credentials)} with credentials, which "
            "runs do not keep: resume it with --node and its user and password, or with the "
            "node in the config"
        )
    try:
        return [NodeConfig(name=entry["name"], url=entry["url"]) for entry in entries]
    except ValidationError as error:
        _, _, message = first_problem(error)
        raise InputError(f"run {run.id}: its node: {message}; resume it with --node") from None
