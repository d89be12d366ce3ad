"""Images done and failed per node, counted from the queue.

Counted over every run the queue holds, by the node that took each job last: a job that
failed on one node and was then made on another counts as done for the second only, and a
job put back in the queue (interrupted, or its node went away) counts for none. So "failed"
means images given up as failed there, not every failed attempt.

Read through a read-only connection of its own: looking never creates, migrates or locks
the queue, and a missing queue means nothing made yet.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NodeTally:
    done: int = 0
    failed: int = 0


def node_tallies(queue_path: Path) -> dict[str, NodeTally]:
    """Each node's images done and failed, by node name."""
    if not queue_path.exists():
        return {}
    db = sqlite3.connect(f"{queue_path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        rows = db.execute(
            "SELECT node, SUM(status = 'done'), SUM(status = 'failed') FROM jobs "
            "WHERE node IS NOT NULL AND status IN ('done', 'failed') GROUP BY node"
        ).fetchall()
    finally:
        db.close()
    return {node: NodeTally(done, failed) for node, done, failed in rows}
