import math

import pytest

from stablenew_tui.pipeline.batch_end import Lane, batch_end, drain_time


def lane(model, rate=1.0, load=5.0, ready=0.0):
    return Lane(model, rate, lambda _model: load, ready)


def test_drain_time_adds_lanes_as_they_become_ready():
    assert drain_time(10.0, [(0.0, 1.0)]) == pytest.approx(10.0)
    # The second lane joins after 2 s: 2 s alone, then 8 units at rate 2.
    assert drain_time(10.0, [(0.0, 1.0), (2.0, 1.0)]) == pytest.approx(6.0)
    assert drain_time(1.0, [(0.0, 1.0), (2.0, 1.0)]) == pytest.approx(1.0)
    assert drain_time(1.0, []) == math.inf


def test_one_checkpoint_over_its_nodes():
    estimate = batch_end([lane("a", 1.0), lane("a", 3.0)], {"a": 40.0})
    assert estimate.end == pytest.approx(10.0) and estimate.loads == 0


def test_a_free_node_loads_the_unserved_checkpoint():
    estimate = batch_end([lane("a"), lane(None, load=2.0)], {"a": 10.0, "b": 10.0})
    assert estimate.end == pytest.approx(12.0) and estimate.loads == 1


def test_nodes_move_on_when_their_checkpoint_runs_out():
    # Both on a (10 s of work for the two), then both load b (5 s) and share its 20.
    estimate = batch_end([lane("a"), lane("a")], {"a": 20.0, "b": 20.0})
    assert estimate.end == pytest.approx(10.0 + 5.0 + 10.0) and estimate.loads == 2


def test_a_node_that_would_only_add_a_load_does_not_move():
    # b has 1 s left on its own node; the a node, free at once, would need 5 s to load b.
    estimate = batch_end([lane("b"), lane("a")], {"b": 1.0})
    assert estimate.end == pytest.approx(1.0) and estimate.loads == 0


def test_no_node_can_make_it():
    assert batch_end([], {"a": 1.0}).end == math.inf
