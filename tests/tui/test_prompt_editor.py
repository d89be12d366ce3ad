"""The Prompt tab as a first-time user meets it: where the keyboard starts, the example, what
re-roll does, the selected segment, and locks dropped by loading a pack prompt."""

from __future__ import annotations

from textual.widgets import Input, Label, Select, TextArea

from stablenew_tui.prompts import SamplingMode
from stablenew_tui.tui.screens.help import HelpScreen
from stablenew_tui.tui.screens.pack_browser import PackBrowser
from stablenew_tui.tui.widgets.prompt_editor import SegmentTable
from tests.tui.helpers import (
    Notifications,
    app_for,
    drawn_text,
    node_state,
    posted,
    results_in_view,
    run_with,
    type_template,
    wait_until,
)

SMALL = {"txt2img-steps": "2", "txt2img-width": "64", "txt2img-height": "64"}
TEMPLATE = "a {red|green|blue|gold|pink|teal} {cat|dog|fox|owl|bee|elk} at {dawn|dusk|noon}"


async def test_the_keyboard_starts_outside_the_template_so_keys_are_keys(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        template = app.screen.query_one("#template", TextArea)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen), "? opens the help"
        await pilot.press("escape")
        assert template.text == ""
        await pilot.press("e", "question_mark")
        assert template.text == "?", "in the template, ? is typed"
        assert template.border_title == "template · editing, Esc when done"
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.focused is app.screen.query_one(SegmentTable)
        assert template.border_title == "template"
        await pilot.press("f3", "f2")
        assert app.focused is app.screen.query_one(SegmentTable), "the tab key comes back here"


async def test_an_empty_template_shows_an_example_and_the_negative_asks_for_words(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        template = app.screen.query_one("#template", TextArea)
        shown = "".join(template.render_line(y).text for y in range(3))
        assert shown.startswith("e.g. a lighthouse at {dusk|dawn|night}, __lighting__")
        negative = app.screen.query_one("#negative", Input)
        assert negative.placeholder.startswith("type what to keep out")


async def test_ctrl_r_on_an_empty_template_says_so_on_screen_and_how_to_fill_it(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("f3", "ctrl+r")  # from another tab: the template is not in view
        await wait_until(pilot, lambda: app.screen.query("Toast"), what="a toast")
        (toast,) = app.screen.query("Toast")
        shown = " ".join(drawn_text(toast).split())
        assert "nothing to run: the template is empty" in shown
        assert "e writes one" in shown and "^O opens a pack" in shown
        assert toast.region.bottom <= 23, "above the key hints, in full"
        assert app.screen.active_tab == "prompt", "the empty template (and its example) in view"
        await pilot.pause(0.3)
        assert not posted(sim, "txt2img") and not app.services.control.waiting_runs


async def test_r_rerolls_one_segment_for_the_next_run_only_and_random_stays_random(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await run_with(pilot, TEMPLATE, SMALL)
        await results_in_view(pilot, 1)
        await pilot.press("f2")
        keys = str(app.screen.query_one("#segment-keys", Label).render())
        assert "r/R re-roll one/all: next run only" in keys, "said on screen"
        table = app.screen.query_one(SegmentTable)
        before = table.get_row_at(0)[3]
        await pilot.press("r")
        held, value = table.get_row_at(0)[1], table.get_row_at(0)[3]
        assert value != before and held == "↻", "another value, marked as for the next run"
        assert not app.services.draft.locks, "and not locked"
        await pilot.press("ctrl+r")
        await results_in_view(pilot, 2)
        assert posted(sim, "txt2img")[-1]["prompt"].startswith(f"a {value} ")
        assert table.get_row_at(0)[1] == "·", "free again after that run"

        await pilot.press("f2", "R")
        for runs in range(3, 7):
            await pilot.press("ctrl+r")
            await results_in_view(pilot, runs)
    prompts = [body["prompt"] for body in posted(sim, "txt2img")[2:]]
    assert len(set(prompts)) > 1, f"random mode stays random after R: {prompts}"


async def test_the_selected_segment_stands_out_only_while_the_list_has_the_keyboard(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_template(pilot, TEMPLATE)
        table = app.screen.query_one(SegmentTable)

        def row_backgrounds() -> tuple:
            """The colours behind the first two rows as drawn (the header is line 0)."""
            return tuple(
                {segment.style.bgcolor for segment in table.render_line(y) if segment.style}
                for y in (1, 2)
            )

        await pilot.pause()
        selected, other = row_backgrounds()
        assert selected != other, "focused: the cursor row stands out"
        await pilot.press("e")
        await pilot.pause()
        selected, other = row_backgrounds()
        assert selected == other, "in the template: no row looks chosen"


async def test_loading_a_pack_prompt_names_every_lock_it_drops_in_one_notice(sim):
    app = app_for(sim.url)
    notes = Notifications()
    async with app.run_test(size=(80, 24), message_hook=notes.collect) as pilot:
        await type_template(pilot, "a {red|blue} {cat|dog} [in the style of x]")
        await pilot.press("L", "ctrl+o")
        browser = app.screen
        assert isinstance(browser, PackBrowser)
        await pilot.press("enter")
        await wait_until(pilot, lambda: browser.loaded is not None, what="a pack opened")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, PackBrowser), what="loaded")
        await wait_until(pilot, lambda: notes.any("dropped"), what="the notice")
    (notice,) = [message for message in notes.messages if "dropped" in message]
    assert notice.startswith("2 lock(s) dropped, their segments changed: 1 {red|blue} = ")
    assert " 2 {cat|dog} = " in notice


async def test_re_roll_in_a_mode_that_goes_in_order_says_so_and_changes_nothing(sim):
    app = app_for(sim.url)
    notes = Notifications()
    async with app.run_test(size=(120, 40), message_hook=notes.collect) as pilot:
        await type_template(pilot, TEMPLATE)
        app.screen.query_one("#mode", Select).value = SamplingMode.COMBINATORIAL
        await wait_until(pilot, lambda: app.services.draft.mode == SamplingMode.COMBINATORIAL)
        table = app.screen.query_one(SegmentTable)
        before = table.get_row_at(0)[3]
        await pilot.press("r", "R")
        assert table.get_row_at(0)[3] == before and table.get_row_at(0)[1] == "·"
        assert notes.any("combinatorial mode goes through them in order")
