"""Images left, the run's ETA from its own pace, and what each node is making."""

from __future__ import annotations

from stablenew_tui.pipeline.events import (
    Interrupted,
    JobDone,
    JobFailed,
    NodeBreaker,
    RunEstimate,
    RunFinished,
    RunStarted,
    StageProgress,
    StageStarted,
)
from stablenew_tui.services.run_status import RunStatus, duration


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _done(index: int, node: str = "a") -> JobDone:
    return JobDone(f"j{index}", index, node, [], "p", index)


def test_left_counts_down_and_the_eta_follows_the_measured_pace():
    clock = Clock()
    status = RunStatus(clock)
    status.update([RunStarted("r", "/f", total=10, remaining=10)])
    assert status.summary() == "10 left", "no pace before the first image ends"
    status.update([StageStarted("j0", 0, "txt2img", "a")])
    clock.now += 4
    status.update([_done(0)])
    assert status.summary() == "9 left · ETA 36s"
    assert status.summary(with_eta=False) == "9 left", "while the run is held up"
    clock.now += 8  # the next two took 4 s each as well
    status.update([StageStarted("j1", 1, "txt2img", "a"), _done(1), _done(2)])
    assert status.left == 7 and status.eta_seconds == 28.0


def test_a_failure_that_will_be_retried_is_not_an_image_less():
    status = RunStatus(Clock())
    status.update([RunStarted("r", "/f", total=3, remaining=3)])
    status.update([JobFailed("j0", 0, "a", "txt2img", "node down", will_retry=True)])
    assert status.left == 3
    status.update([JobFailed("j0", 0, "a", "txt2img", "bad sampler", will_retry=False)])
    assert status.left == 2


def test_a_resumed_run_counts_only_what_it_still_has_to_make():
    status = RunStatus(Clock())
    status.update([RunStarted("r", "/f", total=20, remaining=3)])
    assert status.summary() == "3 left"


def test_each_node_says_what_it_is_making_until_it_is_done():
    status = RunStatus(Clock())
    status.update([RunStarted("r", "/f", total=4, remaining=4)])
    status.update([StageStarted("j0", 0, "txt2img", "a"), StageStarted("j1", 1, "txt2img", "b")])
    status.update([StageProgress("j1", 1, "img2img", "b", 12, 20, 0.6, 3.0)])
    assert status.activity == {"a": "#1 txt2img", "b": "#2 img2img 12/20"}
    status.update([_done(0, "a"), Interrupted("j1", 1, "b")])
    assert status.activity == {}


def test_nothing_is_said_once_the_run_has_finished():
    status = RunStatus(Clock())
    status.update([RunStarted("r", "/f", total=1, remaining=1), StageStarted("j0", 0, "t", "a")])
    status.update([RunFinished("r", "/f", {"queued": 1}, stopped=True)])
    assert status.summary() == "" and status.activity == {}


def test_a_node_the_breaker_took_out_is_out_until_let_back_or_the_run_ends():
    status = RunStatus(Clock())
    status.update([RunStarted("r", "/f", total=4, remaining=4)])
    status.update([NodeBreaker("a", out=True), NodeBreaker("b", out=True)])
    assert status.out == {"a", "b"}
    status.update([NodeBreaker("a", out=False)])
    assert status.out == {"b"}
    status.update([RunFinished("r", "/f", {"done": 4})])
    assert status.out == set(), "a breaker holds for one run"


def test_durations_read_at_a_glance():
    assert [duration(s) for s in (4.4, 59.6, 125, 3600 * 2 + 60 * 5 + 9)] == [
        "4s", "1m00s", "2m05s", "2h05m",
    ]  # fmt: skip


def test_the_engines_estimate_wins_over_the_pace_and_counts_down():
    clock = Clock()
    status = RunStatus(clock)
    status.update([RunStarted("r", "/f", total=10, remaining=10)])
    status.update([RunEstimate("r", 95.0)])  # the nodes' speeds are known from earlier runs
    assert status.summary() == "10 left · ETA 1m35s", "before any image of this run"
    clock.now += 5
    assert status.eta_seconds == 90.0
    status.update([StageStarted("j0", 0, "txt2img", "a")])
    clock.now += 4
    status.update([_done(0), RunEstimate("r", 40.0)])  # faster than its pace says
    assert status.eta_seconds == 40.0
    clock.now += 60
    assert status.eta_seconds == 0.0, "never negative"
    status.update([RunFinished("r", "/f")])
    status.update([RunStarted("r2", "/g", total=2, remaining=2)])
    assert status.summary() == "2 left", "a new run starts without the old estimate"
