"""One line of plain words per event, shared by the CLI's output and the TUI's job log."""

from __future__ import annotations

from stablenew_tui.pipeline.events import (
    CopyLost,
    CopyStarted,
    Event,
    Interrupted,
    JobDone,
    JobFailed,
    JobSkipped,
    LocalFailure,
    NodeStatus,
    RunFinished,
    RunStarted,
    RunWaiting,
    StageDone,
    StageStarted,
    VideoDone,
    VideoFailed,
    VideoStarted,
)


def describe(event: Event) -> str | None:
    """The event in words; None for events shown as bars instead (progress)."""
    match event:
        case RunStarted():
            return (
                f"run {event.run_id}: {event.remaining} of {event.total} images to make"
                f" → {event.folder}"
            )
        case StageStarted():
            return f"[{event.node}] image {event.index + 1}: {event.stage} started"
        case StageDone():
            where = f"[{event.node}] image {event.index + 1}"
            return f"{where}: {event.stage} done in {event.seconds:.1f}s → {event.paths[0]}"
        case JobDone():
            return f"image {event.index + 1} done"
        case JobFailed():
            again = "; will retry" if event.will_retry else ""
            where = f"[{event.node}] image {event.index + 1}"
            return f"{where} FAILED in {event.stage}: {event.reason}{again}"
        case JobSkipped():
            return f"[{event.node}] image {event.index + 1} skipped"
        case CopyStarted():
            return f"[{event.node}] image {event.index + 1}: made here too, {event.other} is slow"
        case CopyLost():
            return f"[{event.node}] image {event.index + 1}: made first elsewhere; discarded"
        case Interrupted():
            return f"[{event.node}] image {event.index + 1} interrupted; it stays queued"
        case NodeStatus():
            detail = f": {event.detail}" if event.detail else ""
            return f"node {event.node} {event.state}{detail}"
        case VideoStarted():
            return f"video: joining {event.images} images → {event.out}"
        case VideoDone():
            return f"video done: {event.duration:.1f} s → {event.path}"
        case VideoFailed():
            return f"video FAILED: {event.reason}"
        case RunWaiting():
            return f"run {event.run_id} is being made by {event.holder}; waiting for it to end"
        case LocalFailure():
            return f"writing failed: {event.problem}; {event.fix}"
        case RunFinished():
            counts = ", ".join(f"{n} {status}" for status, n in sorted(event.counts.items()))
            if event.taken_over_by:
                return f"run taken over by {event.taken_over_by}: {counts} → {event.folder}"
            return f"run finished: {counts} → {event.folder}"
    return None


def is_problem(event: Event) -> bool:
    return isinstance(event, (JobFailed, VideoFailed, LocalFailure)) or (
        isinstance(event, NodeStatus) and event.state == "DISCONNECTED"
    )
