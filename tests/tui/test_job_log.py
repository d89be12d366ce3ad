"""The job log: wrapped plain lines, drawn when in view, following the newest."""

from __future__ import annotations

from textual.app import App, ComposeResult

from stablenew_tui.tui.widgets import job_log
from stablenew_tui.tui.widgets.job_log import JobLog, _wrapped


class _Host(App):
    def compose(self) -> ComposeResult:
        yield JobLog()


def _drawn(log: JobLog) -> list[str]:
    return [log.render_line(y).text.rstrip() for y in range(log.scrollable_content_region.height)]


def test_wrapping_breaks_between_words_and_cuts_only_words_too_long_for_a_line():
    assert _wrapped("a red fox jumps", 9) == ["a red fox", "jumps"]
    assert _wrapped("see /a/very/long/path.png now", 8) == [
        "see",
        "/a/very/",
        "long/pat",
        "h.png",
        "now",
    ]
    assert _wrapped("猫猫猫猫 dog", 4) == ["猫猫", "猫猫", "dog"]  # two cells each
    assert _wrapped("", 5) == [""]


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
        assert len(log._lines) == 20, "each entry once"
        assert _drawn(log)[-1].endswith("line 19"), "still following the newest"
