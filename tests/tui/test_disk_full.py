"""The TUI on a full disk (a real small tmpfs; root only): the queue pauses and says which disk
and what to do; once space is freed, resuming makes the rest."""

from __future__ import annotations

from stablenew_tui.pipeline.launch import RunRequest
from tests.disk_helpers import remount, small_disk
from tests.integration.pipeline_helpers import launcher_for
from tests.tui.helpers import Notifications, app_for, node_state, wait_until

FLAGS = {
    "images_per_prompt": 8,
    "stages": ["txt2img", "img2img", "upscale"],
    "txt2img": {"steps": 2, "width": 256, "height": 256},
    "upscale": {"upscaler": "Lanczos", "scale": 2.0},
}


async def test_a_full_disk_pauses_the_queue_with_a_notice_and_f8_goes_on(sim, tmp_path):
    with small_disk(tmp_path / "out", "256k") as out:
        launcher = launcher_for(sim.url)
        try:  # planned earlier, to be continued from the queue tab
            prepared = await launcher.prepare(
                RunRequest(prompt="a lighthouse", flags=FLAGS, output_root=out)
            )
        finally:
            await launcher.aclose()
        (folder,) = out.iterdir()
        notices = Notifications()
        app = app_for(sim.url)
        async with app.run_test(size=(120, 40), message_hook=notices.collect) as pilot:
            await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
            await pilot.press("ctrl+t", "enter")
            expected = f"paused: no space left on the disk holding {folder}; free space, then "
            await wait_until(pilot, lambda: notices.any(expected), what="the notice")
            (notice,) = [message for message in notices.messages if expected in message]
            assert notice.lower().endswith("then resume with f8"), notice
            control = app.services.control
            assert control.paused

            remount(out, "size=16m")
            await pilot.press("f8")
            counts = lambda: control.launcher.queue.counts(prepared.run.id)  # noqa: E731
            await wait_until(pilot, lambda: counts() == {"done": 8}, what="every image made")
