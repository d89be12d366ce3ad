"""The sdnext flavor answers in SD.Next's own shapes (vladmandic/sdnext modules/api/*.py)."""

from __future__ import annotations

import asyncio

from .helpers import API, info_of, progress_state, serving, wait_until

SMALL = {"prompt": "a red kite", "steps": 4, "width": 64, "height": 64}
ENDLESS = {"prompt": "a lighthouse", "seed": 9, "steps": 2000, "width": 512, "height": 512}
SLOW = 4.0


async def test_embeddings_are_name_lists_and_schedulers_fail_their_own_check() -> None:
    async with serving("sdnext") as (_sim, http):
        embeddings = (await http.get(f"{API}/embeddings")).json()
        schedulers = await http.get(f"{API}/schedulers")
    assert embeddings == {
        "loaded": ["negativeXL_D", "ziprealism_neg"],
        "skipped": ["EasyNegative", "bad-hands-5", "ng_deepnegative_v1_75t"],
    }
    body = schedulers.json()
    assert schedulers.status_code == 500
    assert (body["error"], body["code"], body["detail"]) == ("ResponseValidationError", 500, "")
    assert body["body"][0] == {"name": "Default", "cls": None, "options": {}}
    assert {"name": "Euler", "cls": "<lambda>", "options": {}} in body["body"]
    assert body["errors"].startswith("5 validation errors:\n  {'type': 'string_type', 'loc': (")
    assert body["errors"].endswith("in get_schedulers\n    GET /sdapi/v1/schedulers")


async def test_info_lacks_the_a1111_only_keys() -> None:
    async with serving("sdnext") as (_sim, http):
        info = info_of(await http.post(f"{API}/txt2img", json=SMALL))
    for missing in ("sd_model_name", "sd_vae_name", "sd_vae_hash", "version", "restore_faces"):
        assert missing not in info
    assert {"cfg_end", "detailer", "detailer_model", "sd_model_hash", "infotexts"} <= set(info)


async def test_out_of_memory_is_a_200_without_images() -> None:
    async with serving("sdnext") as (sim, http):
        sim.faults.oom_next(path="txt2img")
        faulted = await http.post(f"{API}/txt2img", json=SMALL)
        too_big = await http.post(f"{API}/txt2img", json=SMALL | {"width": 8192, "height": 8192})
        memory = (await http.get(f"{API}/memory")).json()
    for answer in (faulted, too_big):
        assert (answer.status_code, answer.json()["images"]) == (200, [])
        assert "a red kite" in info_of(answer)["infotexts"][0]
    assert memory["cuda"]["events"]["oom"] == 2


async def test_commands_answer_204_without_a_body() -> None:
    async with serving("sdnext") as (_sim, http):
        for route in (
            "interrupt",
            "skip",
            "refresh-checkpoints",
            "refresh-vae",
            "unload-checkpoint",
            "reload-checkpoint",
        ):
            answer = await http.post(f"{API}/{route}")
            assert (answer.status_code, answer.content) == (204, b""), route
        loras = (await http.post(f"{API}/refresh-loras")).json()
    assert loras["add_detail"]["filename"].endswith("/models/Lora/add_detail.safetensors")


async def test_options_answer_what_was_updated() -> None:
    async with serving("sdnext") as (sim, http):
        answer = await http.post(
            f"{API}/options",
            json={"CLIP_stop_at_last_layers": 2, "no_such_key": 1, "samples_save": True},
        )
        assert answer.json() == {
            "updated": [
                {"CLIP_stop_at_last_layers": True},
                {"no_such_key": False},  # unknown keys are not an error on SD.Next
                {"samples_save": False},  # unchanged
            ]
        }
        # An unknown checkpoint is stored and unloads the model: jobs then make nothing.
        switch = await http.post(f"{API}/options", json={"sd_model_checkpoint": "nope"})
        empty = await http.post(f"{API}/txt2img", json=SMALL)
        assert sim.options["sd_model_checkpoint"] == "nope"
    assert switch.json() == {"updated": [{"sd_model_checkpoint": True}]}
    assert (empty.status_code, empty.json()["images"], empty.json()["info"]) == (200, [], "")


async def test_models_are_titled_without_extension_and_typed() -> None:
    async with serving("sdnext") as (_sim, http):
        first = (await http.get(f"{API}/sd-models")).json()[0]
        options = (await http.get(f"{API}/options")).json()
    assert first["title"] == "sd_xl_base_1.0 [31e35c80fc]"
    assert (first["model_name"], first["type"]) == ("sd_xl_base_1.0", "safetensors")
    assert options["sd_model_checkpoint"] == first["title"]


async def test_requests_fail_in_sdnext_words() -> None:
    async with serving("sdnext") as (_sim, http):
        no_init = await http.post(f"{API}/img2img", json={"prompt": "x"})
        blank = await http.post(f"{API}/png-info", json={"image": " "})
        case = await http.post(f"{API}/txt2img", json=SMALL | {"sampler_name": "euler A"})
    assert (no_init.status_code, no_init.json()) == (400, {"error": "Init image is none"})
    assert blank.json() == {"info": "", "items": {}, "parameters": {}}
    assert info_of(case)["sampler_name"] == "Euler a"


async def test_progress_has_an_id_and_each_pass_runs_from_zero() -> None:
    async with serving("sdnext", speed=SLOW) as (sim, http):
        idle = await progress_state(http)
        job = asyncio.create_task(http.post(f"{API}/txt2img", json=ENDLESS | {"n_iter": 2}))
        # SD.Next rounds progress to two decimals: wait until it shows.
        await wait_until(lambda: sim.webui.engine.state.sampling_step >= 30, "30 steps")
        running = await progress_state(http)
        await http.post(f"{API}/interrupt")
        answer = await job
    assert idle["id"] == 0 and idle["progress"] == 0
    assert running["state"]["job"] == "Inference"
    assert (running["state"]["job_count"], running["state"]["job_no"]) == (1, 0)
    assert set(running["state"]) == {
        "skipped", "interrupted", "job", "job_count", "job_timestamp", "job_no",
        "sampling_step", "sampling_steps",
    }  # fmt: skip
    assert len(running["id"]) == 15 and 0 < running["progress"] < 1
    # The interrupted pass is dropped and no later batch runs.
    assert answer.json()["images"] == []


async def test_skip_drops_the_pass_and_the_batch_after_it() -> None:
    body = ENDLESS | {"steps": 64, "n_iter": 3}
    async with serving("sdnext", speed=SLOW) as (sim, http):
        job = asyncio.create_task(http.post(f"{API}/txt2img", json=body))
        await wait_until(lambda: sim.webui.engine.state.sampling_step >= 2, "the first batch")
        await http.post(f"{API}/skip")
        answer = await job
    # modules/processing.py leaves `skipped` set after the dropped pass, so the second batch
    # is skipped as well; only the third one makes an image.
    [infotext] = info_of(answer)["infotexts"]
    assert len(answer.json()["images"]) == 1 and "Seed: 11," in infotext
