"""A comparison grid made from the TUI at 80×24, by keys, against the simulator: the palette
opens the dialog, the grid is queued like Ctrl+R's runs, its contact sheet is drawn when it
ends, and pick mode then opens on it. A wrong axis value is named and nothing is lost."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from textual.widgets import Input, Select

from stablenew_tui.tui.screens.compare_dialog import ComparisonDialog
from stablenew_tui.tui.screens.main import MainScreen
from stablenew_tui.tui.screens.pick import PickScreen
from stablenew_tui.tui.widgets.job_log import JobLog
from tests.tui.helpers import app_for, node_state, posted, type_template, wait_until

SMALL_CARDS = {"txt2img-steps": "2", "txt2img-width": "64", "txt2img-height": "64"}


def said(app) -> list[str]:
    return [notification.message for notification in app._notifications]


async def open_dialog(
    pilot, template: str, cards: dict[str, str] | None = None
) -> ComparisonDialog:
    app = pilot.app
    await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
    await pilot.press("f3")
    for field_id, value in {**SMALL_CARDS, **(cards or {})}.items():
        app.screen.query_one(f"#field-{field_id}", Input).value = value
    await pilot.press("f2")
    await type_template(pilot, template)
    await pilot.press("ctrl+p", *"make a grid", "enter")
    await wait_until(pilot, lambda: isinstance(app.screen, ComparisonDialog), what="dialog")
    dialog = app.screen
    await wait_until(pilot, lambda: dialog.known, what="the node's names")
    return dialog


def value(dialog: ComparisonDialog, widget_id: str) -> str:
    return dialog.query_one(f"#{widget_id}", Input).value


async def test_a_grid_made_from_the_palette_is_run_and_its_sheet_drawn_at_80x24(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        dialog = await open_dialog(pilot, "a fox in the snow")
        assert value(dialog, "prompt") == "a fox in the snow", "the editor's template"
        assert value(dialog, "seed") == "", "the seed field is random: so is the grid's"
        box = dialog.query_one("Vertical").region
        assert box.bottom <= 24 and box.right <= 80, "the whole dialog is in sight at 80×24"
        # Columns: sampler, chosen from the list by keys; its values completed from the node's.
        await pilot.press(
            "enter", *["down"] * 4, "enter"
        )  # from "no axis": model, vae, seed, sampler
        assert dialog.query_one("#axis-0", Select).value == "sampler"
        await pilot.press("tab", *"eul", "right", *", ddi", "right")
        assert value(dialog, "values-0") == "Euler a, DDIM"
        assert "samplers on the node: " in str(dialog.query_one("#known").render())
        # Rows: CFG, typed.
        dialog.query_one("#axis-1", Select).value = "cfg"
        dialog.query_one("#values-1", Input).value = "5, 7"
        dialog.query_one("#seed", Input).focus()
        await pilot.press(*"42", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), what="queued")
        assert any("queued a comparison of 4 cells" in text for text in said(app))

        queue = app.services.launcher.queue
        run = queue.runs()[-1]
        sheet = Path(run.folder) / "comparison.png"
        await wait_until(pilot, sheet.exists, timeout=60, what="the contact sheet")
        await wait_until(pilot, lambda: any(str(sheet) in text for text in said(app)),
                         what="where the sheet is")  # fmt: skip
        assert any(str(sheet) in entry for entry in app.screen.query_one(JobLog).entries)
        jobs = queue.jobs(run.id)
        assert {job.status for job in jobs} == {"done"}
        cells = sorted(tuple(sorted((job.spec.cell or {}).items())) for job in jobs)
        assert cells == sorted(
            (("cfg", cfg), ("sampler", sampler))
            for cfg in ("5", "7") for sampler in ("Euler a", "DDIM")
        )  # fmt: skip
        sent = posted(sim, "txt2img")
        assert {body["seed"] for body in sent} == {42}
        assert {(body["sampler_name"], body["cfg_scale"]) for body in sent} == {
            (s, c) for s in ("Euler a", "DDIM") for c in (5.0, 7.0)
        }
        assert {body["prompt"] for body in sent} == {"a fox in the snow"}
        with Image.open(sheet) as image:
            assert image.width > 2 * 64 and image.height > 2 * 64

        # Pick mode opens on it: the newest comparison.
        await pilot.press("ctrl+p", *"pick the better", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PickScreen), what="pick mode")
        assert app.screen.session.run.id == run.id


async def test_a_wrong_axis_value_is_named_and_the_dialog_keeps_what_was_typed(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        dialog = await open_dialog(pilot, "a fox", {"txt2img-seed": "77"})
        assert value(dialog, "seed") == "77", "the seed field's seed"
        runs_before = len(app.services.launcher.queue.runs())
        dialog.query_one("#axis-0", Select).value = "cfg"
        dialog.query_one("#values-0", Input).value = "5, lots"
        dialog.query_one("#values-0", Input).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: said(app), what="a notification")
        assert said(app)[-1] == "axis cfg=lots: expected a number"
        # A name the node does not know is found when the grid is planned.
        dialog.query_one("#values-0", Input).value = "5, 7"
        dialog.query_one("#axis-1", Select).value = "sampler"
        dialog.query_one("#values-1", Input).value = "Euler a, Eular"
        dialog.query_one("#values-1", Input).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Eular" in said(app)[-1], what="the name refused")
        assert said(app)[-1].startswith("axis sampler=Eular: ")
        await wait_until(pilot, lambda: not dialog.planning, what="planning to end")
        assert app.screen is dialog, "the dialog stays open"
        assert (value(dialog, "values-0"), value(dialog, "values-1")) == ("5, 7", "Euler a, Eular")
        assert value(dialog, "prompt") == "a fox"
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert len(app.services.launcher.queue.runs()) == runs_before, "nothing queued"
        assert not posted(sim, "txt2img")


async def test_enter_pressed_again_while_the_grid_is_planned_queues_it_once(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        dialog = await open_dialog(pilot, "a fox")
        dialog.query_one("#axis-0", Select).value = "cfg"
        dialog.query_one("#values-0", Input).value = "5, 7"
        values = dialog.query_one("#values-0", Input)
        values.post_message(Input.Submitted(values, values.value))
        values.post_message(Input.Submitted(values, values.value))  # before planning starts
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), what="queued")
        await wait_until(pilot, lambda: not app.services.control.running, timeout=60,
                         what="the run to end")  # fmt: skip
        await pilot.pause(0.3)
        assert len(app.services.launcher.queue.runs()) == 1
        assert len(posted(sim, "txt2img")) == 2
