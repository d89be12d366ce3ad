"""Turns on a node, on a real SQLite file: one taker at a time, waiters served in turn, a turn
whose holder stopped renewing it lapses."""

from __future__ import annotations

import time

import pytest

from stablenew_tui.pipeline.node_leases import NodeBusy
from stablenew_tui.pipeline.queue import JobQueue

URL = "http://gpu-box:7860"


def test_one_taker_at_a_time_and_a_waiter_goes_next(tmp_path):
    first = JobQueue(tmp_path / "queue.sqlite3")
    second = JobQueue(tmp_path / "queue.sqlite3")  # another process's view of the file
    try:
        turn = first.nodes.take(URL)
        with pytest.raises(NodeBusy):
            second.nodes.take(URL)  # ...and marks itself as waiting
        first.nodes.give_back(turn)
        with pytest.raises(NodeBusy):
            first.nodes.take(URL)  # the waiter's turn comes first
        turn = second.nodes.take(URL)
        with pytest.raises(NodeBusy):
            first.nodes.take(URL)
        second.nodes.give_back(turn)
        first.nodes.give_back(first.nodes.take(URL))
        first.nodes.take("http://other-box:7860")  # other nodes are other turns
    finally:
        first.close()
        second.close()


def test_the_holder_sees_when_another_taker_waits_for_its_node(tmp_path):
    first = JobQueue(tmp_path / "queue.sqlite3")
    second = JobQueue(tmp_path / "queue.sqlite3")
    try:
        turn = first.nodes.take(URL)
        assert not first.nodes.wanted(turn), "nobody else asked: it keeps the node"
        other = first.nodes.take("http://other-box:7860")
        with pytest.raises(NodeBusy):
            second.nodes.take(URL)
        assert first.nodes.wanted(turn)
        assert not first.nodes.wanted(other), "another node's waiter is not this node's"
        first.nodes.give_back(turn)
        second.nodes.give_back(second.nodes.take(URL))
        assert not first.nodes.wanted(first.nodes.take(URL)), "the waiter had its turn"
    finally:
        first.close()
        second.close()


def test_a_turn_not_renewed_lapses_and_one_renewed_does_not(tmp_path):
    first = JobQueue(tmp_path / "queue.sqlite3", lease_seconds=1)
    second = JobQueue(tmp_path / "queue.sqlite3", lease_seconds=1)
    try:
        turn = first.nodes.take(URL)
        time.sleep(0.6)
        first.nodes.renew([turn])
        time.sleep(0.6)
        with pytest.raises(NodeBusy):
            second.nodes.take(URL)
        time.sleep(1.1)  # no renewal: the holder froze or died
        second.nodes.take(URL)
        first.nodes.give_back(turn)  # too late: it gives back nothing of the new holder's
        with pytest.raises(NodeBusy):
            first.nodes.take(URL)
    finally:
        first.close()
        second.close()
