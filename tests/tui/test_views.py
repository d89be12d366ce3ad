"""The queue view and the tab bar on their own: keys, mouse, empty state, themes."""

from __future__ import annotations

from textual.app import App, ComposeResult

from stablenew_tui.pipeline.jobs import Job, PromptSpec
from stablenew_tui.tui.widgets.queue_view import EMPTY_HINT, QueueView
from stablenew_tui.tui.widgets.tab_bar import TabBar
from tests.tui.helpers import wait_until


def _job(index: int, prompt: str = "a fox") -> Job:
    return Job(id=f"j{index}", run_id="r", index=index, prompt_index=0, seed=index,
               spec=PromptSpec(prompt=prompt))  # fmt: skip


class _QueueHost(App):
    def __init__(self, jobs: list[Job]) -> None:
        super().__init__()
        self.jobs = jobs

    def compose(self) -> ComposeResult:
        yield QueueView(lambda: self.jobs)


def _drawn(view: QueueView) -> list[str]:
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


async def _read_and_drawn(pilot, view: QueueView) -> None:
    """Read the queue (in a thread) and wait until what was read is drawn."""
    view.read_if_stale()
    await wait_until(pilot, lambda: not view.is_reading, what="the queue read")
    await pilot.pause()


async def test_the_queue_says_what_to_do_when_empty_and_draws_prompts_on_one_line():
    app = _QueueHost([])
    async with app.run_test(size=(80, 12)) as pilot:
        view = app.query_one(QueueView)
        await _read_and_drawn(pilot, view)
        assert EMPTY_HINT in _drawn(view)[1]
        app.jobs = [_job(0, "a lighthouse\nat dusk,\tin oil")]
        await _read_and_drawn(pilot, view)
        assert "a fox" not in _drawn(view)[1], "nothing new until marked stale"
        view.mark_stale()
        await _read_and_drawn(pilot, view)
        line = _drawn(view)[1]
        assert "a lighthouse at dusk, in oil" in line and "\n" not in line and "\t" not in line


async def test_a_queue_read_while_out_of_sight_is_drawn_when_it_comes_into_view():
    app = _QueueHost([_job(0, "first")])
    async with app.run_test(size=(80, 12)) as pilot:
        view = app.query_one(QueueView)
        view.display = False
        await pilot.pause()
        await _read_and_drawn(pilot, view)
        assert view.shown == [], "not drawn while out of sight"
        view.display = True
        await pilot.pause()
        view.show_waiting()
        assert [cells[3] for cells in view.shown] == ["first"]


async def test_queue_keys_and_clicks_move_the_cursor_and_keep_it_in_sight():
    app = _QueueHost([_job(n) for n in range(50)])
    async with app.run_test(size=(80, 12)) as pilot:
        view = app.query_one(QueueView)
        await _read_and_drawn(pilot, view)
        view.focus()
        await pilot.press("end")
        assert view.selected_job_id == "j49"
        await pilot.pause()
        assert _drawn(view)[-1].split()[0] == "50", "the last row is in sight"
        await pilot.press("home", "pagedown")
        rows_in_view = view.container_size.height - 1
        assert view.cursor == rows_in_view
        await pilot.press("home")
        await pilot.pause()
        await pilot.click(QueueView, offset=(5, 4))  # border, header, then rows 1, 2, 3
        assert view.selected_job_id == "j2"


class _TabsHost(App):
    def __init__(self) -> None:
        super().__init__()
        self.chosen: list[str] = []

    def compose(self) -> ComposeResult:
        yield TabBar({"a": "Alpha f2", "b": "Beta f3"}, active="a")

    def on_tab_bar_chosen(self, message: TabBar.Chosen) -> None:
        self.chosen.append(message.tab)


async def test_clicking_a_tab_title_chooses_it_and_a_new_theme_recolours_the_active_one():
    app = _TabsHost()
    async with app.run_test(size=(40, 3)) as pilot:
        bar = app.query_one(TabBar)
        await pilot.click(TabBar, offset=(13, 0))  # padding 1, " Alpha f2 " and a space
        assert app.chosen == ["b"]

        def active_colour() -> object:
            return next(span.style for span in bar.render().spans).bgcolor

        before = active_colour()
        app.theme = "nord"
        await pilot.pause()
        assert active_colour() != before
