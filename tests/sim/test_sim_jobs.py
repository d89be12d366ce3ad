"""One job at a time, observable progress, interrupt and skip.

These run the simulator slowly enough to watch a job (a few ms per step) and use jobs far too
long to finish on their own, so nothing depends on how fast the machine is: each test waits for
a state, acts, and checks the outcome.
"""

from __future__ import annotations

import asyncio

import httpx

from .helpers import API, decode, info_of, progress_state, serving, wait_until

SLOW = 4.0  # 512x512 at speed 4: about 16 ms per step
ENDLESS = {"prompt": "a lighthouse in a storm", "seed": 9, "steps": 2000}


async def step_reached(http: httpx.AsyncClient, step: int, job_no: int = 0) -> bool:
    state = (await progress_state(http))["state"]
    return state["job_no"] == job_no and state["sampling_step"] >= step


async def test_progress_advances_while_a_job_runs() -> None:
    async with serving(speed=SLOW) as (_sim, http):
        job = asyncio.create_task(http.post(f"{API}/txt2img", json=ENDLESS))
        await wait_until(lambda: step_reached(http, 2), "the job to start sampling")
        first = await progress_state(http)
        await wait_until(
            lambda: step_reached(http, first["state"]["sampling_step"] + 2), "more steps"
        )
        second = await progress_state(http)
        await http.post(f"{API}/interrupt")
        await job
    assert 0 < first["progress"] < second["progress"] < 1
    assert first["eta_relative"] > 0
    # With one batch A1111 keeps the job's own name (processing.py `process_images_inner`).
    assert first["state"]["job"] == "scripts_txt2img"
    assert first["state"]["job_count"] == 1 and first["state"]["sampling_steps"] == 2000
    assert first["state"]["stopping_generation"] is False
    assert first["current_image"] is None  # live previews are off by default
    assert set(first) == {"progress", "eta_relative", "state", "current_image", "textinfo"}


async def test_progress_when_idle(client: httpx.AsyncClient) -> None:
    idle = await progress_state(client)
    assert (idle["progress"], idle["eta_relative"]) == (0, 0)
    assert idle["state"]["job_count"] == 0 and idle["current_image"] is None


async def test_interrupt_ends_the_job_early_with_an_image() -> None:
    async with serving(speed=SLOW) as (_sim, http):
        job = asyncio.create_task(http.post(f"{API}/txt2img", json=ENDLESS | {"n_iter": 3}))
        await wait_until(lambda: step_reached(http, 3), "the job to start sampling")
        assert (await http.post(f"{API}/interrupt")).json() == {}
        answer = await job
        after = await progress_state(http)
    assert answer.status_code == 200
    assert len(answer.json()["images"]) == 1  # the batch it was on; later batches never ran
    assert decode(answer.json()["images"][0]).size == (512, 512)
    assert len(info_of(answer)["all_seeds"]) == 3
    assert after["state"]["job_count"] == 0


async def test_skip_moves_on_to_the_next_batch() -> None:
    async with serving(speed=SLOW) as (_sim, http):
        job = asyncio.create_task(http.post(f"{API}/txt2img", json=ENDLESS | {"n_iter": 3}))
        for batch in range(2):
            await wait_until(lambda b=batch: step_reached(http, 2, b), f"batch {batch}")
            await http.post(f"{API}/skip")
        await wait_until(lambda: step_reached(http, 2, 2), "the last batch")
        await http.post(f"{API}/interrupt")
        answer = await job
    assert len(answer.json()["images"]) == 3
    assert info_of(answer)["all_seeds"] == [9, 10, 11]


async def test_interrupt_when_idle_does_nothing(client: httpx.AsyncClient) -> None:
    body = {"prompt": "a pear", "seed": 1, "steps": 10, "width": 64, "height": 64}
    before = (await client.post(f"{API}/txt2img", json=body)).json()["images"]
    await client.post(f"{API}/interrupt")
    await client.post(f"{API}/skip")
    after = (await client.post(f"{API}/txt2img", json=body)).json()["images"]
    assert before == after


async def test_live_preview_appears_unless_skipped() -> None:
    async with serving(speed=SLOW, preview=True) as (sim, http):
        assert sim.options["show_progress_every_n_steps"] > 0
        await http.post(f"{API}/options", json={"show_progress_every_n_steps": 2})
        job = asyncio.create_task(http.post(f"{API}/txt2img", json=ENDLESS))
        await wait_until(lambda: step_reached(http, 2), "two steps")
        with_preview = await progress_state(http)
        without = (await http.get(f"{API}/progress", params={"skip_current_image": "true"})).json()
        await http.post(f"{API}/interrupt")
        await job
    assert decode(with_preview["current_image"]).format == "PNG"
    assert without["current_image"] is None


async def test_jobs_run_one_at_a_time_in_arrival_order() -> None:
    finished: list[str] = []

    async def generate(http: httpx.AsyncClient, name: str) -> None:
        body = {"prompt": name, "steps": 60, "width": 256, "height": 256}
        answer = await http.post(f"{API}/txt2img", json=body)
        finished.append(info_of(answer)["prompt"])

    async with serving(speed=SLOW) as (sim, http):
        engine = sim.webui.engine
        first = asyncio.create_task(generate(http, "first"))
        await wait_until(lambda: engine.busy, "the first job to hold the queue")
        second = asyncio.create_task(generate(http, "second"))
        await wait_until(lambda: engine.waiting == 1, "the second job to queue")
        third = asyncio.create_task(generate(http, "third"))
        await wait_until(lambda: engine.waiting == 2, "the third job to queue")
        # Progress, interrupt and skip never wait for the queue.
        assert (await http.get(f"{API}/progress")).status_code == 200
        await asyncio.gather(first, second, third)
    assert finished == ["first", "second", "third"]


async def test_idle_progress_keeps_what_the_last_job_left(client: httpx.AsyncClient) -> None:
    body = {"prompt": "a pear", "seed": 1, "steps": 7, "width": 64, "height": 64, "n_iter": 2}
    await client.post(f"{API}/txt2img", json=body)
    after_job = (await progress_state(client))["state"]
    await client.post(f"{API}/interrupt")
    after_interrupt = (await progress_state(client))["state"]
    answer = await client.post(f"{API}/txt2img", json=body)
    # State.end clears the job name and count only; nextjob() left job_no one past the last
    # batch and sampling_step at 0.
    assert (after_job["job"], after_job["job_count"], after_job["job_no"]) == ("", 0, 2)
    assert (after_job["sampling_step"], after_job["sampling_steps"]) == (0, 7)
    # An interrupt when idle is stored, shown, and cleared by the next job's begin.
    assert after_interrupt["interrupted"] is True
    assert len(answer.json()["images"]) == 2
