"""The job log: wrapped plain lines, drawn when in view, following the newest."""

from __future__ import annotations

from textual.app import App, ComposeResult

from stablenew_tui.pipeline.events import NodeStatus
from stablenew_tui.tui.widgets import job_log
from stablenew_tui.tui.widgets.job_log import JobLog


class _Host(App):
    def compose(self) -> ComposeResult:
        yield JobLog()


def _drawn(log: JobLog) -> list[str]:
    return [log.render_line(y).text.rstrip() for y in range(log.scrollable_content_region.height)]


async def test_lines_break_between_words_and_long_paths_after_a_slash():
    app = _Host()
    async with app.run_test(size=(50, 8)) as pilot:  # 35 cells of text after the time
        log = app.query_one(JobLog)
        log.note("a red fox → /tmp/output/20261201-120000_a-red-fox/txt2img/00001_7.png")
        log.note("猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫 dog")  # two cells each, no spaces
        log.show_waiting()
        await pilot.pause()
        text = [line[job_log.STAMP_WIDTH :].strip() for line in _drawn(log)]
    assert text[:3] == [
        "a red fox → /tmp/output/",
        "20261201-120000_a-red-fox/txt2img/",
        "00001_7.png",
    ]
    assert text[3:5] == ["猫" * 17, "猫" * 3 + " dog"], "only a word too long for a line is cut"


async def test_lines_are_drawn_when_shown_wrapped_under_the_text_and_follow_the_newest():
    app = _Host()
    async with app.run_test(size=(40, 8)) as pilot:
        log = app.query_one(JobLog)
        log.note("first")
        log.note("a problem that is long enough to wrap onto a second line", problem=True)
        await pilot.pause()
        assert _drawn(log) == [""] * 6, "nothing is drawn before show_waiting"
        log.show_waiting()
        await pilot.pause()
        lines = _drawn(log)
        assert lines[0].endswith(" first") and lines[0][:2].isdigit()
        assert lines[1].endswith(" a problem that is long")
        assert lines[2] == " " * job_log.STAMP_WIDTH + "enough to wrap onto a"
        assert any(segment.style and segment.style.bold for segment in log.render_line(1))
        assert not any(segment.style and segment.style.bold for segment in log.render_line(0))

        for n in range(10):
            log.note(f"line {n}")
        log.show_waiting()
        await pilot.pause()
        assert _drawn(log)[-1].endswith("line 9"), "the view follows the newest line"

        log.scroll_to(y=0, animate=False, immediate=True)
        log.note("while reading older lines")
        log.show_waiting()
        await pilot.pause()
        assert _drawn(log)[0].endswith(" first"), "a user reading older lines is not moved"


async def test_the_log_keeps_its_newest_entries_only(monkeypatch):
    monkeypatch.setattr(job_log, "MAX_ENTRIES", 5)
    app = _Host()
    async with app.run_test(size=(40, 8)) as pilot:
        log = app.query_one(JobLog)
        for n in range(12):
            log.note(f"entry {n} " + "word " * (n % 3 * 5))  # one, two or three lines each
            if n % 4 == 3:
                log.show_waiting()
        log.show_waiting()
        await pilot.pause()
        log.scroll_to(y=0, animate=False, immediate=True)
        await pilot.pause()
        assert len(log.entries) == 5
        first, second = _drawn(log)[:2]
        assert first.endswith(" entry 7 word word word") and second.strip() == "word word"


async def test_resizing_rewraps_once_and_keeps_following_the_newest():
    app = _Host()
    async with app.run_test(size=(40, 12)) as pilot:
        log = app.query_one(JobLog)
        for n in range(20):
            log.note(f"line {n}")
        log.show_waiting()
        await pilot.pause()
        await pilot.resize_terminal(12, 12)  # too narrow for any text
        await pilot.pause()
        await pilot.resize_terminal(40, 6)  # back, and shorter
        await pilot.pause()
        assert log.virtual_size.height == 20, "each entry once"
        assert _drawn(log)[-1].endswith("line 19"), "still following the newest"


async def test_a_node_state_is_logged_when_it_changes_not_at_each_reconnect_attempt():
    app = _Host()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(JobLog)
        outage = ["DISCONNECTED", "CONNECTING"] * 4
        # The engine finds the node back before the monitor's next attempt to connect.
        back = ["READY", "CONNECTING", "READY", "BUSY"]
        for state in ["CONNECTING", "READY", "BUSY", "READY", *outage, *back]:
            detail = "connection refused" if state == "DISCONNECTED" else ""
            log.show(NodeStatus("gpu", state, detail, "A1111", "sdxl"))
        await pilot.pause()
    said = [entry.split(" ", 1)[1] for entry in log.entries]
    assert said == [
        "node gpu CONNECTING",
        "node gpu READY",
        "node gpu DISCONNECTED: connection refused",
        "node gpu READY",
    ]


async def test_the_monitor_trying_again_after_the_engine_found_the_node_back_is_not_news():
    app = _Host()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(JobLog)
        refused = "cannot connect (connection refused)"
        for state, detail in [
            ("CONNECTING", ""), ("READY", ""),
            ("DISCONNECTED", "connection dropped during txt2img"),  # the engine's job
            ("DISCONNECTED", refused),  # the monitor, then it waits before trying again
            ("READY", ""),  # the engine's probe answered first
            ("CONNECTING", refused),  # the monitor tries again, keeping what it last saw
            ("READY", ""),
        ]:  # fmt: skip
            log.show(NodeStatus("gpu", state, detail, "A1111", "sdxl"))
        await pilot.pause()
    said = [entry.split(" ", 1)[1] for entry in log.entries]
    assert said == [
        "node gpu CONNECTING",
        "node gpu READY",
        "node gpu DISCONNECTED: connection dropped during txt2img",
        "node gpu READY",
    ]
