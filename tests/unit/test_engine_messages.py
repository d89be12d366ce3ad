"""Engine events reach the screen in batches; only the newest progress of each kind is kept."""

from __future__ import annotations

from stablenew_tui.pipeline.events import JobDone, StageProgress, VideoProgressed
from stablenew_tui.tui.messages import without_stale_progress


def _progress(node: str, step: int) -> StageProgress:
    return StageProgress(job_id="j", index=0, stage="txt2img", node=node, step=step, steps=9,
                         fraction=step / 9, eta_seconds=None)  # fmt: skip


def test_only_the_newest_progress_per_node_and_video_is_kept_in_order():
    done = JobDone(job_id="j", index=0, node="a", paths=["x.png"], prompt="p", seed=1)
    events = [
        _progress("a", 1), _progress("b", 1), VideoProgressed(run_id="r", fraction=0.1,
        speed=None), _progress("a", 2), done, VideoProgressed(run_id="r", fraction=0.2,
        speed=None), _progress("a", 3),
    ]  # fmt: skip
    assert without_stale_progress(events) == [
        _progress("b", 1), done, VideoProgressed(run_id="r", fraction=0.2, speed=None),
        _progress("a", 3),
    ]  # fmt: skip


def test_events_other_than_progress_are_all_kept():
    done = [JobDone(job_id=str(n), index=n, node="a", paths=[], prompt="p", seed=n)
            for n in range(3)]  # fmt: skip
    assert without_stale_progress(done) == done
