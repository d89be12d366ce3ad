"""Classic StableNew settings files (pack sidecars and presets) mapped onto our settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.settings import merge_settings
from stablenew_tui.prompts import PackError, discover_packs, find_pack, load_pack
from stablenew_tui.prompts.classic.settings_file import read_settings_file
from tests.conftest import TEST_DATA

CLASSIC = TEST_DATA / "stablenew"
PACKS = CLASSIC / "packs"


def _settings(tmp_path: Path, document: dict):
    path = tmp_path / "preset.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return read_settings_file(path, InputError)


def test_a_sidecar_is_its_packs_settings_not_a_pack():
    names = [info.name for info in discover_packs([PACKS])]
    assert names.count("Aldric") == 1
    assert find_pack("Aldric", [PACKS]).path == PACKS / "Aldric.txt"
    assert find_pack("Aldric.json", [PACKS]).path == PACKS / "Aldric.txt"
    with pytest.raises(PackError) as caught:
        load_pack(PACKS / "Aldric.json")
    assert "holds the settings of the pack Aldric.txt" in str(caught.value)


def test_every_key_of_a_sidecar_maps_onto_a_stage_setting():
    pack = load_pack("Aldric", [PACKS])
    assert pack.settings_file == PACKS / "Aldric.json"
    assert pack.overrides == {
        "txt2img": {
            "model": "sd_xl_base_1.0.safetensors [31e35c80fc]",
            "sampler": "DPM++ 2M", "scheduler": "Karras", "steps": 28, "cfg_scale": 6.5,
            "width": 832, "height": 1216, "seed": 4242, "clip_skip": 2,
            "hires": True, "hires_scale": 1.5, "hires_upscaler": "Latent",
            "hires_sampler": "Euler a", "hires_steps": 10, "hires_denoising": 0.35,
            "refiner": None, "refiner_switch_at": 0.8, "apply_global_negative": True,
        },
        "img2img": {
            "steps": 14, "denoising_strength": 0.3, "cfg_scale": 5.5,
            "sampler": "DPM++ SDE", "scheduler": "Karras", "apply_global_negative": False,
        },
        "upscale": {
            "upscaler": "ESRGAN_4x", "scale": 1.5, "method": "extras",
            "denoising_strength": 0.2, "face_restoration": "gfpgan",
            "face_restoration_strength": 0.4, "codeformer_weight": 0.5,
            "apply_global_negative": True,
        },
        "adetailer": {
            "model": "face_yolov8n.pt", "confidence": 0.4, "mask_feather": 4, "denoise": 0.3,
            "sampler": "DPM++ 2M", "steps": 20, "cfg": 6.0, "prompt": None,
            "negative_prompt": None, "apply_global_negative": True,
        },
        "video": {"fps": 12, "seconds_per_image": 1 / 12, "crossfade": 0.0, "format": "mp4"},
        "variants": {"mode": "fanout"},
        "stages": ["txt2img", "img2img", "upscale"],
        "images_per_prompt": 1,
    }  # fmt: skip
    settings = merge_settings(("pack", dict(pack.overrides)))
    assert settings.upscale.method == "extras" and settings.video.frames_for(12) == 12
    assert pack.negative == "blurry, lowres", "txt2img.negative_prompt is the pack's negative"


def test_the_txt_pack_keeps_its_bom_neg_lines_embeddings_and_loras():
    first, second = load_pack("Aldric", [PACKS]).prompts
    assert first.prompt.startswith("<embedding:sn_realism_pos> <embedding:sn_detail_pos>, (")
    assert first.prompt.endswith("<lora:sn_film_grain:0.6> <lora:sn_eyes:0.8>")
    assert "\ufeff" not in first.prompt
    assert first.negative == (
        "<embedding:sn_bad_hands-neg> <embedding:sn_plastic-neg>, extra fingers, waxy skin"
    )
    assert (second.line, second.negative) == (9, "")


def test_keys_that_cannot_be_honoured_give_one_warning_each_with_file_line_and_key():
    warnings = load_pack("Aldric", [PACKS]).warnings
    where = f"{PACKS / 'Aldric.json'}"
    assert warnings == (
        f"{where}:29: txt2img.prompt: not used: the classic app never sent it either",
        f"{where}:64: api.base_url: not used: nodes come from [[nodes]] in the config or --node",
        f"{where}:65: api.timeout: not used: set [client] read_timeout in the config",
        f"{where}:104: aesthetic: aesthetic gradients are not supported; ignored "
        "(it is off in this file)",
    )


@pytest.mark.parametrize(
    ("sampler_name", "scheduler", "expected"),
    [
        ("DPM++ 2M", "Karras", ("DPM++ 2M", "Karras")),
        ("DPM++ 2M", "karras", ("DPM++ 2M", "Karras")),
        ("DPM++ 2M", "sgm_uniform", ("DPM++ 2M", "SGM Uniform")),
        ("DPM++ SDE Karras", "Karras", ("DPM++ SDE", "Karras")),
        ("DPM++ 2M Karras", "Normal", ("DPM++ 2M", "Karras")),  # the name's scheduler wins
        ("DPM++ 2M SGM Uniform", None, ("DPM++ 2M", "SGM Uniform")),
        ("Euler a", None, ("Euler a", None)),
    ],
)
def test_sampler_and_scheduler_pair_as_the_webui_reads_them(
    tmp_path, sampler_name, scheduler, expected
):
    section = {"sampler_name": sampler_name}
    if scheduler is not None:
        section["scheduler"] = scheduler
    table = _settings(tmp_path, {"txt2img": section}).table["txt2img"]
    assert (table["sampler"], table.get("scheduler")) == expected


def test_empty_names_keep_what_is_loaded_and_none_means_none(tmp_path):
    txt2img = {"model": "", "vae": "", "refiner_checkpoint": "None", "hr_sampler_name": ""}
    table = _settings(tmp_path, {"txt2img": txt2img}).table["txt2img"]
    assert table == {"refiner": None}
    hashed = {"refiner_checkpoint": "sd_xl_refiner_1.0.safetensors [7440042bbd]",
              "steps": 40, "refiner_switch_steps": 30}  # fmt: skip
    table = _settings(tmp_path, {"txt2img": hashed}).table["txt2img"]
    assert table["refiner"] == "sd_xl_refiner_1.0.safetensors", "sent without its hash"
    assert table["refiner_switch_at"] == 0.75


def test_hires_fix_is_off_when_later_stages_follow_unless_allowed(tmp_path):
    txt2img = {"enable_hr": True}
    settings = _settings(tmp_path, {"txt2img": txt2img, "pipeline": {"upscale_enabled": True}})
    assert settings.table["txt2img"]["hires"] is False
    assert "txt2img.enable_hr: hires fix off" in settings.warnings[0]
    alone = {"img2img_enabled": False, "upscale_enabled": False}
    assert _settings(tmp_path, {"txt2img": txt2img, "pipeline": alone}).table["txt2img"]["hires"]
    allowed = {"upscale_enabled": True, "allow_hr_with_stages": True}
    kept = _settings(tmp_path, {"txt2img": txt2img, "pipeline": allowed})
    assert kept.table["txt2img"]["hires"] is True and not kept.warnings


def test_stage_switches_come_from_the_pipeline_else_from_each_stage(tmp_path):
    pipeline = {"img2img_enabled": False, "upscale_enabled": True, "video_enabled": True}
    assert _settings(tmp_path, {"pipeline": pipeline}).table["stages"] == [
        "txt2img", "upscale", "video",
    ]  # fmt: skip
    sections = {"img2img": {"enabled": True}, "upscale": {"enabled": False}}
    assert _settings(tmp_path, sections).table["stages"] == ["txt2img", "img2img"]
    assert "stages" not in _settings(tmp_path, {"txt2img": {"steps": 3}}).table


def test_a_batch_makes_that_many_images_each_a_job(tmp_path):
    document = {"txt2img": {"batch_size": 2, "batch_count": 3}, "pipeline": {
        "images_per_prompt": 2}}  # fmt: skip
    assert _settings(tmp_path, document).table["images_per_prompt"] == 12
    with pytest.raises(InputError) as caught:
        _settings(tmp_path, {"txt2img": {"batch_size": 0}})
    assert caught.value.line == 3 and "txt2img.batch_size: 0: expected a whole number" in str(
        caught.value
    )


def test_face_restorers_and_upscale_modes(tmp_path):
    upscale = {"upscale_mode": "img2img", "codeformer_visibility": 0.7, "codeformer_weight": 0.6,
               "gfpgan_visibility": 0.2, "steps": 20}  # fmt: skip
    settings = _settings(tmp_path, {"upscale": upscale})
    assert settings.table["upscale"] == {
        "method": "img2img", "face_restoration": "codeformer",
        "face_restoration_strength": 0.7, "codeformer_weight": 0.6,
    }  # fmt: skip
    assert [warning.split(": ", 1)[1] for warning in settings.warnings] == [
        "upscale.steps: the img2img upscale uses the img2img stage's sampler, steps and CFG",
        "upscale.gfpgan_visibility: one face restorer per upscale here: CodeFormer is used",
    ]
    off = _settings(tmp_path, {"upscale": {"gfpgan_visibility": 0.0, "mode": "single"}})
    assert off.table["upscale"] == {"method": "extras", "face_restoration": "none"}
    with pytest.raises(InputError, match=r"upscale.mode: 'latent': expected single or img2img"):
        _settings(tmp_path, {"upscale": {"mode": "latent"}})


def test_quiet_keys_stay_quiet_until_they_ask_for_something(tmp_path):
    quiet = {
        "txt2img": {"styles": [], "tiling": False, "hypernetwork": "None"},
        "img2img": {"seed": -1, "prompt_adjust": ""},
        "pipeline": {"loop_count": 1},
    }
    assert not _settings(tmp_path, quiet).warnings
    asking = {
        "txt2img": {"tiling": True, "colour": "red"},
        "img2img": {"seed": 5},
        "pipeline": {"model_matrix": ["a", "b"]},
        "extra": {},
    }
    assert [warning.split(": ", 1)[1] for warning in _settings(tmp_path, asking).warnings] == [
        "txt2img.tiling: not supported here; ignored",
        "txt2img.colour: unknown key; ignored",
        "img2img.seed: img2img works from each image's own seed",
        "extra: unknown key; ignored",
    ]  # fmt: skip


def test_video_keys(tmp_path):
    video = _settings(tmp_path, {"video": {"fps": 30, "codec": "libvpx-vp9",
                                           "quality": "ultra"}})  # fmt: skip
    assert video.table["video"] == {"fps": 30, "seconds_per_image": 1 / 30, "crossfade": 0.0,
                                    "format": "webm"}  # fmt: skip
    assert "video.quality: the encoder's speed preset" in video.warnings[0]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('{\n  "txt2img": {\n    "steps": 20,\n  }\n}\n', "not valid JSON", 4),
        ('{\n  "txt2img": [1]\n}\n', "txt2img: expected an object", 2),
        ("[1, 2]", "expected an object with txt2img", 1),
        ('{"txt2img": {"negative_prompt": 3}}', "txt2img.negative_prompt: expected text", 1),
    ],
)
def test_a_malformed_file_is_one_error_at_its_line(tmp_path, text, message, line):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_settings_file(path, InputError)
    assert message in caught.value.message and caught.value.line == line
    assert caught.value.source == str(path)


def test_a_settings_file_without_its_txt_says_what_it_is(tmp_path):
    (tmp_path / "heroes.json").write_text('{\n  "txt2img": {"steps": 3}\n}\n')
    with pytest.raises(PackError) as caught:
        load_pack("heroes", [tmp_path])
    assert caught.value.message.startswith("a classic StableNew settings file, not a pack")
    assert f"--preset {tmp_path / 'heroes.json'}" in caught.value.message


def test_the_adetailer_block_is_the_adetailer_stage(tmp_path):
    path = CLASSIC / "presets" / "adetailer_faces.json"
    preset = read_settings_file(path, InputError)
    assert preset.table["adetailer"] == {
        "model": "face_yolov8s.pt", "confidence": 0.55, "mask_feather": 6, "denoise": 0.35,
        "sampler": "DPM++ 2M", "steps": 14, "cfg": 5.0, "prompt": "sharp eyes, detailed skin",
        "negative_prompt": None, "apply_global_negative": False,
    }  # fmt: skip
    assert preset.table["stages"] == ["txt2img", "adetailer"]
    assert preset.warnings == (f"{path}:17: adetailer.adetailer_scheduler: unknown key; ignored",)
    settings = merge_settings(("preset", preset.table))
    assert settings.enabled("adetailer") and settings.adetailer.steps == 14
    # Without the pipeline's switch, the block's own decides.
    block_only = {"adetailer": {"adetailer_enabled": True, "adetailer_denoise": 0.2}}
    assert _settings(tmp_path, block_only).table["stages"] == ["txt2img", "adetailer"]
    off = {"pipeline": {"adetailer_enabled": False}, "adetailer": {"adetailer_enabled": True}}
    assert _settings(tmp_path, off).table["stages"] == ["txt2img"]
    wrong = {"adetailer": {"adetailer_confidence": 2}}
    with pytest.raises(InputError) as caught:
        merge_settings(("preset", _settings(tmp_path, wrong).table))
    assert "adetailer.confidence" in str(caught.value)


def test_model_matrix_and_hypernetworks_become_the_runs_variants(tmp_path):
    path = CLASSIC / "presets" / "model_matrix.json"
    preset = read_settings_file(path, InputError)
    assert preset.table["txt2img"]["model"] == ["dreamshaper_8.safetensors",
                                                "v1-5-pruned-emaonly.safetensors"]  # fmt: skip
    assert preset.table["img2img"]["model"] is None, "each variant's checkpoint serves img2img"
    assert preset.table["variants"] == {
        "hypernetworks": [{"name": "anime_3", "strength": 0.6}, "None"],
        "mode": "fanout",
    }
    assert preset.origins[("txt2img", "model")].line == 26
    settings = merge_settings(("preset", preset.table))
    assert [(c.name, c.strength) for c in settings.variants.hypernetworks] == [
        ("anime_3", 0.6),
        ("None", 1.0),
    ]
    assert preset.warnings == (
        f"{path}:16: img2img.hypernetwork: one hypernetwork serves every stage here: "
        "txt2img's (pixel_art)",
    )


def test_a_stages_own_hypernetwork_serves_the_run_and_a_bad_variant_list_is_named(tmp_path):
    own = {"txt2img": {"hypernetwork": "anime_3", "hypernetwork_strength": 0.7},
           "img2img": {"hypernetwork": "None", "hypernetwork_strength": 1.0}}  # fmt: skip
    mapped = _settings(tmp_path, own)
    assert mapped.table["variants"] == {"hypernetworks": [{"name": "anime_3", "strength": 0.7}]}
    assert not mapped.warnings
    img2img_only = _settings(tmp_path, {"img2img": {"hypernetwork": "soft"}})
    assert img2img_only.table["variants"] == {"hypernetworks": [{"name": "soft"}]}
    odd = _settings(tmp_path, {"pipeline": {"variant_mode": "shuffle", "model_matrix": [" a "]}})
    assert odd.table["variants"] == {"mode": "fanout"} and odd.table["txt2img"]["model"] == "a"
    assert [warning.split(": ", 1)[1] for warning in odd.warnings] == [
        "pipeline.variant_mode: 'shuffle': expected fanout or rotate; fanout is used"
    ]
    rotate = _settings(tmp_path, {"pipeline": {"variant_mode": " Rotate "}})
    assert rotate.table["variants"] == {"mode": "rotate"} and not rotate.warnings
    with pytest.raises(InputError, match=r"pipeline.model_matrix: expected a list") as caught:
        _settings(tmp_path, {"pipeline": {"model_matrix": "a.safetensors"}})
    assert caught.value.line == 3
