"""Turns on a node: one process at a time sends a node generation requests.

Two processes sharing a node (two `stablenew run`, or the TUI and a CLI) would otherwise each
send it a generation at once; the WebUI makes one while the other waits behind its lock with
its progress standing still, read as a stall. So a worker takes the node's lease in the queue
file before it claims a job for the node, keeps it from job to job (taking it again for each
would cost two more writes to the queue file an image), and gives it back once it claims no
more or, after its job in hand, when another process waits for the node. The lease is renewed
with the jobs' (see `leases`) and lapses when the process dies or freezes.

Turns alternate: a process waiting for a node marks itself as wanting it, and the holder, once
it gives the node back, does not take it again before the waiter has had its turn (unless the
waiter stops asking). Nodes are told apart by URL: each process names them as it likes.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass

from stablenew_tui.pipeline.holders import Holder, this_process
from stablenew_tui.pipeline.queue_db import Connection, lease_free
from stablenew_tui.pipeline.queue_schema import NODE_LEASES_TABLE

# How long a waiter's mark stands without being made again (a waiter looks every
# TURN_RECHECK_SECONDS).
WANT_SECONDS = 3.0
TURN_RECHECK_SECONDS = 0.25


@dataclass(frozen=True)
class NodeTurn:
    url: str
    token: str  # this take's own: only it renews or gives the turn back


class NodeBusy(Exception):
    """Another process has the node's turn."""

    def __init__(self, holder: Holder | None) -> None:
        self.holder = holder
        super().__init__(holder.describe() if holder else "another process")


class NodeLeases:
    def __init__(self, db: Connection, lease_seconds: float, reads: Connection) -> None:
        self._db = db
        self._reads = reads  # not waiting behind a write another thread makes
        self.lease_seconds = lease_seconds
        self._me = uuid.uuid4().hex  # two queues open in one process are two takers
        with db.write() as conn:
            conn.execute(NODE_LEASES_TABLE)

    def take(self, url: str) -> NodeTurn:
        """The node's turn, for `lease_seconds`; raises NodeBusy when another taker has it, or
        has been waiting for it."""
        now = time.time()
        token = f"{self._me}:{uuid.uuid4().hex[:8]}"
        with self._db.write() as db:
            row = db.execute("SELECT * FROM node_leases WHERE url = ?", (url,)).fetchone()
            busy = row is not None and self._busy(db, row, now)
            if not busy:
                db.execute(
                    "INSERT OR REPLACE INTO node_leases "
                    "(url, owner, token, lease_until, wanted_by, wanted_until) "
                    "VALUES (?, ?, ?, ?, NULL, NULL)",
                    (url, this_process().to_json(), token, now + self.lease_seconds),
                )
        if busy:
            raise NodeBusy(Holder.from_json(row["owner"]) if row["token"] else None)
        return NodeTurn(url, token)

    def _busy(self, db: sqlite3.Connection, row: sqlite3.Row, now: float) -> bool:
        """Whether the node's turn is another's: held (then mark this taker as waiting), or
        free but promised to another taker waiting for it."""
        holder = Holder.from_json(row["owner"])
        if row["token"] and not lease_free(holder, row["lease_until"], now):
            if not row["token"].startswith(self._me):
                db.execute(
                    "UPDATE node_leases SET wanted_by = ?, wanted_until = ? WHERE url = ?",
                    (self._me, now + WANT_SECONDS, row["url"]),
                )
            return True
        return row["wanted_by"] not in (None, self._me) and (row["wanted_until"] or 0) > now

    def wanted(self, turn: NodeTurn) -> bool:
        """Whether another taker waits for the node while `turn` holds it."""
        with self._reads.read() as db:
            row = db.execute(
                "SELECT wanted_by, wanted_until FROM node_leases WHERE url = ?", (turn.url,)
            ).fetchone()
        return (
            row is not None
            and row["wanted_by"] not in (None, self._me)
            and (row["wanted_until"] or 0) > time.time()
        )

    def renew(self, turns: list[NodeTurn]) -> None:
        until = time.time() + self.lease_seconds
        with self._db.write() as db:
            db.executemany(
                "UPDATE node_leases SET lease_until = ? WHERE url = ? AND token = ?",
                [(until, turn.url, turn.token) for turn in turns],
            )

    def give_back(self, turn: NodeTurn) -> None:
        with self._db.write() as db:
            db.execute(
                "UPDATE node_leases SET owner = NULL, token = NULL, lease_until = NULL "
                "WHERE url = ? AND token = ?",
                (turn.url, turn.token),
            )
