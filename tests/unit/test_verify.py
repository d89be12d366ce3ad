"""Checking an answer against its request, on answers shaped as each server's Processed.js()
builds them (`modules/processing.py` in A1111 1.10 and Forge; SD.Next's has no sd_model_name,
sd_vae_name or version)."""

from __future__ import annotations

import json

import pytest

from stablenew_tui.pipeline.verify import check_image
from stablenew_tui.webui.errors import AnswerMismatch
from stablenew_tui.webui.models import GenerationResult, SDModel

DREAMSHAPER = SDModel(
    title="dreamshaper_8.safetensors [879db523c3]",
    model_name="dreamshaper_8",
    hash="879db523c3",
    sha256="879db523c30d3b9017143d56705015e15a2cb5628762c11d086fed9538abd7fd",
    filename="/webui/models/Stable-diffusion/dreamshaper_8.safetensors",
)
UNHASHED = SDModel(
    title="SDXL/juggernautXL_v9.safetensors",
    model_name="SDXL_juggernautXL_v9",
    filename="C:\\webui\\models\\Stable-diffusion\\SDXL\\juggernautXL_v9.safetensors",
)
MODELS = [DREAMSHAPER, UNHASHED]
PARAMETERS = "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42"


def sent(**changes) -> dict:
    body = {
        "prompt": "a barn",
        "seed": 42,
        "sampler_name": "DPM++ 2M",
        "scheduler": "karras",
        "width": 512,
        "height": 768,
        "override_settings": {"sd_model_checkpoint": DREAMSHAPER.title, "sd_vae": "Automatic"},
    }
    return body | changes


def answer(parameters: str = PARAMETERS, drop: tuple[str, ...] = (), **changes) -> GenerationResult:
    info = {
        "seed": 42,
        "all_seeds": [42],
        "width": 512,
        "height": 768,
        "sampler_name": "DPM++ 2M",
        "sd_model_name": "dreamshaper_8",
        "sd_model_hash": "879db523c3",
        "sd_vae_name": None,
        "sd_vae_hash": None,
        "index_of_first_image": 0,
        "infotexts": [f"a barn\n{parameters}, Size: 512x768"],
        "version": "v1.10.1",
    } | changes
    for key in drop:
        info.pop(key)
    return GenerationResult.from_answer({"images": ["AAAA"], "info": json.dumps(info)})


def mismatch(body: dict, result: GenerationResult) -> AnswerMismatch:
    with pytest.raises(AnswerMismatch) as caught:
        check_image(body, result, MODELS, node="gpu1")
    return caught.value


def test_an_answer_made_as_asked_passes_with_nothing_unverified():
    verdict = check_image(sent(), answer(), MODELS, node="gpu1")
    assert verdict.unverified == () and verdict.model == "dreamshaper_8"


def test_another_checkpoint_fails_naming_both_and_may_be_retried():
    error = mismatch(sent(), answer(sd_model_name="sd_xl_base_1.0", sd_model_hash="31e35c80fc"))
    assert str(error) == (
        "gpu1: asked for model 'dreamshaper_8.safetensors [879db523c3]', "
        "the node made it with 'sd_xl_base_1.0 [31e35c80fc]'"
    )
    assert error.retriable


def test_a_checkpoint_not_hashed_yet_is_known_by_its_file_name():
    body = sent(override_settings={"sd_model_checkpoint": "SDXL_juggernautXL_v9"})
    result = answer(sd_model_name="juggernautXL_v9", sd_model_hash="0a1b2c3d4e")
    assert check_image(body, result, MODELS, node="gpu1").model == "juggernautXL_v9"


def test_a_replaced_sampler_fails_and_is_not_retried():
    body = sent(sampler_name="Eulerr", scheduler=None)
    error = mismatch(body, answer())
    assert "asked for sampler 'Eulerr', the node made it with 'DPM++ 2M'" in str(error)
    assert not error.retriable


def test_a_sampler_with_its_schedule_in_the_name_matches_the_split_answer():
    body = sent(sampler_name="DPM++ 2M Karras", scheduler=None)
    assert check_image(body, answer(), MODELS, node="gpu1").unverified == ()


@pytest.mark.parametrize(("asked", "ok"), [("Karras", True), ("karras", True), ("beta", False)])
def test_the_schedule_is_read_from_the_infotext(asked, ok):
    body = sent(scheduler=asked)
    if ok:
        check_image(body, answer(), MODELS, node="gpu1")
    else:
        assert "asked for scheduler 'beta', the node made it with 'Karras'" in str(
            mismatch(body, answer())
        )


def test_scheduler_label_and_name_are_one():
    parameters = PARAMETERS.replace("Karras", "SGM Uniform")
    check_image(sent(scheduler="sgm_uniform"), answer(parameters), MODELS, node="gpu1")


def test_every_difference_is_named_at_once():
    error = mismatch(sent(), answer(all_seeds=[7], seed=7, width=640))
    assert "asked for seed 42, the node made it with 7" in str(error)
    assert "asked for size '512x768', the node made it with '640x768'" in str(error)
    assert not error.retriable


def test_a_chosen_vae_must_be_the_one_loaded():
    body = sent(override_settings={"sd_vae": "vae-ft-mse-840000-ema-pruned.safetensors"})
    error = mismatch(body, answer(sd_vae_name=None))
    assert "asked for VAE 'vae-ft-mse-840000-ema-pruned.safetensors'" in str(error)
    assert "made it with 'None'" in str(error) and error.retriable
    check_image(sent(override_settings={"sd_vae": "None"}), answer(), MODELS, node="gpu1")


def test_what_sdnext_does_not_report_is_unverified_not_assumed():
    result = answer(sd_model_hash=None, drop=("sd_model_name", "sd_vae_name", "version"))
    body = sent(override_settings={"sd_model_checkpoint": DREAMSHAPER.title, "sd_vae": "None"})
    verdict = check_image(body, result, MODELS, node="gpu1")
    assert verdict.unverified == ("model", "vae")
    assert verdict.model == DREAMSHAPER.title, "falls back to what was asked"


def test_a_schedule_without_an_infotext_is_unverified():
    verdict = check_image(sent(), answer(infotexts=[]), MODELS, node="gpu1")
    assert verdict.unverified == ("scheduler",)


def test_forge_modules_are_checked_in_the_infotext():
    body = sent(override_settings={"forge_additional_modules": ["sdxl_vae.safetensors"]})
    check_image(body, answer(f"{PARAMETERS}, Module 1: sdxl_vae"), MODELS, node="gpu1")
    error = mismatch(body, answer(f"{PARAMETERS}, Module 1: ae"))
    assert "asked for modules ['sdxl_vae.safetensors'], the node made it with ['ae']" in str(error)
