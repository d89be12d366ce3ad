"""The Queue and Results tabs following runs, and the queue's keys, with Pilot against the
simulator over loopback HTTP."""

from __future__ import annotations

from stablenew_tui.tui.widgets.queue_view import QueueView
from stablenew_tui.tui.widgets.results import ResultsTable
from tests.tui.helpers import (
    app_for,
    node_state,
    posted,
    results_in_view,
    run_with,
    type_template,
    wait_until,
)


async def test_the_queue_view_follows_a_run(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await run_with(pilot, "a queue", {"images-per-prompt": "3", "txt2img-steps": "2"})
        await pilot.press("f4")
        view = app.screen.query_one(QueueView)
        await wait_until(pilot, lambda: _statuses(view) == ["done"] * 3, what="three done rows")
        header, first = _screen_lines(view)[:2]
        assert header.split() == ["#", "status", "node", "prompt", "note"]
        assert first.split() == ["1", "✓", "done", "sim", "a", "queue"]


async def test_queue_keys_cancel_a_job_and_run_another_next(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("f8")  # paused: the run is queued but nothing starts
        await run_with(pilot, "steered", {"images-per-prompt": "5", "txt2img-steps": "2"})
        await pilot.press("f4")
        view = app.screen.query_one(QueueView)
        await wait_until(pilot, lambda: _statuses(view) == ["queued"] * 5, what="five queued")
        await pilot.press("j", "j", "x")  # the third
        await wait_until(pilot, lambda: _statuses(view)[2] == "cancelled", what="cancelled")
        await pilot.press("end", "f")  # the fifth runs next
        assert view.selected_job_id == view.job_ids[4]
        run_id = app.services.control.running.id  # paused, but the run is under way
        jobs = {job.index: job for job in app.services.control.jobs(run_id)}
        await pilot.press("f8")
        await wait_until(pilot, lambda: _statuses(view).count("done") == 4, what="four done")
    seeds = [body["seed"] for body in posted(sim, "txt2img")]
    assert jobs[2].seed not in seeds, "the cancelled job never ran"
    assert seeds[0] == jobs[4].seed, "the fifth ran first"


def _statuses(view: QueueView) -> list[str]:
    return [cells[1].split(" ", 1)[1] for cells in view.shown]


def _screen_lines(view: QueueView) -> list[str]:
    """The view's lines as drawn, header first."""
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


async def test_results_wait_out_of_view_and_the_cursor_stays_on_its_image(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await run_with(pilot, "a first batch", {"images-per-prompt": "2", "txt2img-steps": "2"})
        table = app.screen.query_one(ResultsTable)
        await wait_until(pilot, lambda: len(table.results) == 2, what="two results kept")
        await pilot.press("f4")  # a tab switch draws what waits in the tab shown, no other
        assert app.screen.active_tab == "queue"
        assert table.row_count == 0, "nothing is drawn while the Results tab is hidden"

        await results_in_view(pilot, 2)
        await pilot.press("j")  # the older of the two
        chosen = table.selected
        await type_template(pilot, "a second batch")  # typed while the results stay in view
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: table.row_count == 4, what="the second batch drawn")
        assert table.selected == chosen
        assert table.get_row_at(0)[-1] == "a second batch", "newest first"


async def test_the_resume_key_continues_a_run_left_unfinished(sim):
    from stablenew_tui.pipeline.launch import RunRequest
    from tests.integration.pipeline_helpers import launcher_for

    flags = {"images_per_prompt": 2, "txt2img": {"steps": 2, "width": 64, "height": 64}}
    launcher = launcher_for(sim.url)
    try:  # planned by an earlier session that ended before making anything
        prepared = await launcher.prepare(RunRequest(prompt="left over", flags=flags))
    finally:
        await launcher.aclose()
    app = app_for(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        await pilot.press("ctrl+t", "enter")  # the chooser lists the newest run first
        table = await results_in_view(pilot, 2)
        assert {row.run_id for row in table.results.values()} == {prepared.run.id}
    assert [body["prompt"] for body in posted(sim, "txt2img")] == ["left over"] * 2
