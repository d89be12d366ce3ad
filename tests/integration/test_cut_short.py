"""An image the node stopped part-way because someone else interrupted or skipped it (the
WebUI's page, another program on the same node) is not kept: the WebUI answers it like a
finished one, so the node's state is read, and the job is made again."""

from __future__ import annotations

import asyncio

from stablenew_tui.pipeline.events import JobFailed
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from tests.integration.conftest import client_for
from tests.integration.pipeline_helpers import drain, launcher_for, manifest, posted, start_run


async def test_an_image_interrupted_by_another_client_is_made_again():
    async with SimServer(speed=0.5) as sim:  # about a third of a second an image
        launcher = launcher_for(sim.url)
        flags = {"images_per_prompt": 3, "txt2img": {"steps": 20, "width": 256, "height": 256}}
        try:
            prepared, events, task = await start_run(
                launcher, RunRequest(prompt="a lighthouse", flags=flags)
            )
            while not sim.webui.engine.busy:
                await asyncio.sleep(0.01)
            async with client_for(sim.url) as someone_else:
                await someone_else.interrupt()
            summary = await asyncio.wait_for(task, 30)
        finally:
            await launcher.aclose()
    assert summary.counts == {"done": 3}
    (cut,) = [event for event in drain(events) if isinstance(event, JobFailed)]
    assert cut.will_retry and "interrupted part-way on the node by another client" in cut.reason
    assert len(posted(sim, "txt2img")) == 4, "the interrupted image made again, once"
    lines = manifest(prepared.run.folder)
    assert sorted(line["index"] for line in lines) == [0, 1, 2], "each image once"
