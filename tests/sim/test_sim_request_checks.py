"""What a generation request is checked for before it queues, per flavor: scripts, styles,
hires and refiner checkpoints, and the shape of a 422."""

from __future__ import annotations

import httpx
import pytest

from .helpers import API, info_of, serving

SMALL = {"prompt": "a pear", "steps": 3, "width": 64, "height": 64}


async def test_same_checkpoint_and_no_refiner_are_accepted(client: httpx.AsyncClient) -> None:
    hires = SMALL | {"enable_hr": True, "denoising_strength": 0.4}
    same = await client.post(
        f"{API}/txt2img",
        json=hires | {"hr_checkpoint_name": "Use same checkpoint", "refiner_checkpoint": "None"},
    )
    assert same.status_code == 200
    assert "Hires checkpoint" not in info_of(same)["infotexts"][0]
    # Any part of a title names a checkpoint, as `get_closet_checkpoint_match` finds it.
    partial = await client.post(f"{API}/txt2img", json=hires | {"hr_checkpoint_name": "dreamsh"})
    assert "Hires checkpoint: dreamshaper_8 [" in info_of(partial)["infotexts"][0]
    unknown = await client.post(f"{API}/txt2img", json=SMALL | {"refiner_checkpoint": "nope"})
    assert unknown.status_code == 500
    assert unknown.json()["errors"] == "Could not find checkpoint with name nope"


async def test_styles_merge_into_the_prompts(client: httpx.AsyncClient) -> None:
    styles = {s["name"]: s for s in (await client.get(f"{API}/prompt-styles")).json()}
    assert "{prompt}" in styles["Cinematic"]["prompt"]
    answer = await client.post(
        f"{API}/txt2img",
        json=SMALL
        | {"negative_prompt": "blurry", "styles": ["Cinematic", "Watercolor", "No such style"]},
    )
    info = info_of(answer)
    assert info["prompt"] == (
        "cinematic still of a pear, shallow depth of field, film grain, "
        "watercolor painting, soft washes, paper texture"
    )
    assert info["negative_prompt"] == "blurry, cartoon, drawing, photo"
    assert info["styles"] == ["Cinematic", "Watercolor", "No such style"]


@pytest.mark.parametrize(
    ("flavor", "body", "status", "detail"),
    [
        ("a1111", {"script_name": "nope"}, 422, "Script 'nope' not found"),
        ("a1111", {"alwayson_scripts": {"nope": {}}}, 422, "Script 'nope' not found"),
        (
            "a1111",
            {"alwayson_scripts": {"Prompt matrix": {"args": []}}},
            422,
            "Cannot have a selectable script in the always on scripts params",
        ),
        ("a1111", {"script_name": "Prompt Matrix", "alwayson_scripts": {"SEED": {}}}, 200, None),
        ("forge", {"alwayson_scripts": {"ControlNet": {"args": []}}}, 200, None),
        ("a1111", {"alwayson_scripts": {"ControlNet": {"args": []}}}, 422, None),
        ("sdnext", {"script_name": "nope"}, 200, None),  # SD.Next ignores an unknown one
        ("sdnext", {"alwayson_scripts": {"nope": {}}}, 422, "Always on script not found: nope"),
        (
            "sdnext",
            {"alwayson_scripts": {"loopback": {}}},
            422,
            "Always on script not found: loopback",  # img2img only
        ),
    ],
)
async def test_scripts_named_in_a_request_must_exist(
    flavor: str, body: dict, status: int, detail: str | None
) -> None:
    async with serving(flavor) as (_sim, http):
        answer = await http.post(f"{API}/txt2img", json=SMALL | body)
    assert answer.status_code == status
    if detail is not None:
        assert answer.json()["detail"] == detail


@pytest.mark.parametrize("flavor", ["a1111", "a1111-1.8"])
async def test_a1111_words_its_422s_as_pydantic_1(flavor: str) -> None:
    async with serving(flavor) as (_sim, http):
        answer = await http.post(f"{API}/txt2img", json={"steps": "many", "restore_faces": []})
    assert answer.json() == {
        "detail": [
            {"loc": ["body", "steps"], "msg": "value is not a valid integer",
             "type": "type_error.integer"},
            {"loc": ["body", "restore_faces"], "msg": "value could not be parsed to a boolean",
             "type": "type_error.bool"},
        ]
    }  # fmt: skip


@pytest.mark.parametrize("flavor", ["forge", "sdnext"])
async def test_forge_and_sdnext_word_theirs_as_pydantic_2(flavor: str) -> None:
    async with serving(flavor) as (_sim, http):
        answer = await http.post(f"{API}/txt2img", json={"steps": "many"})
    [problem] = answer.json()["detail"]
    assert (problem["type"], problem["input"]) == ("int_parsing", "many")
