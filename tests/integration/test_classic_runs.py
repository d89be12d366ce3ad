"""Classic StableNew packs, sidecars, presets and the global negative through whole runs:
what the simulator received, and what the manifest and records say."""

from __future__ import annotations

import re
import shutil

import pytest

from stablenew_tui.config import AppConfig, NodeConfig, PathsConfig, PromptsConfig
from stablenew_tui.errors import InputError
from stablenew_tui.learning.records import read_records
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.launch import RunLauncher, RunRequest
from tests.conftest import TEST_DATA
from tests.integration.pipeline_helpers import manifest, posted, run_to_end
from tests.integration.test_run_cli import stablenew_async

CLASSIC = TEST_DATA / "stablenew"
SMALL = {"txt2img": {"width": 64, "height": 64, "steps": 2}, "stages": ["txt2img"]}


def _config(**prompts: object) -> AppConfig:
    return AppConfig(
        paths=PathsConfig(pack_folders=[CLASSIC / "packs"], preset_folders=[CLASSIC / "presets"]),
        prompts=PromptsConfig(**prompts),  # type: ignore[arg-type]
    )


async def _run(sim, config: AppConfig, **request):
    launcher = RunLauncher(config, AppPaths.from_environment(), [NodeConfig(url=sim.url)])
    try:
        prepared, summary, _ = await run_to_end(launcher, RunRequest(**request))
    finally:
        await launcher.aclose()
    return prepared, summary


def _without_images(body: dict) -> dict:
    return {key: value for key, value in body.items() if key not in ("image", "init_images")}


async def test_a_pack_with_its_sidecar_reaches_the_webui_as_the_classic_app_sent_it(sim):
    prepared, summary = await _run(sim, _config(global_negative="nsfw, watermark"),
                                   pack="Aldric")  # fmt: skip
    assert summary.counts == {"done": 2}
    first, second = posted(sim, "txt2img")
    assert _without_images(first) == {
        "prompt": "<embedding:sn_realism_pos> <embedding:sn_detail_pos>, (masterpiece, best "
        "quality) portrait of Aldric the ferryman, weathered face, grey beard, oilskin coat, "
        "river mist at dawn, <lora:sn_film_grain:0.6> <lora:sn_eyes:0.8>",
        "negative_prompt": "<embedding:sn_bad_hands-neg> <embedding:sn_plastic-neg>, extra "
        "fingers, waxy skin, blurry, lowres, nsfw, watermark",
        "seed": 4242, "sampler_name": "DPM++ 2M", "scheduler": "Karras", "steps": 28,
        "cfg_scale": 6.5, "width": 832, "height": 1216, "batch_size": 1, "n_iter": 1,
        "enable_hr": True, "hr_scale": 1.5, "hr_upscaler": "Latent", "hr_second_pass_steps": 10,
        "hr_sampler_name": "Euler a", "denoising_strength": 0.35,
        # The pack names no VAE: the one loaded when the run was planned is kept.
        "override_settings": {"sd_model_checkpoint": "sd_xl_base_1.0.safetensors [31e35c80fc]",
                              "sd_vae": "Automatic", "CLIP_stop_at_last_layers": 2},
        "override_settings_restore_afterwards": False, "send_images": True, "save_images": False,
    }  # fmt: skip
    assert second["negative_prompt"] == "blurry, lowres, nsfw, watermark"
    assert second["seed"] == 4243
    img2img = posted(sim, "img2img")[0]
    assert (img2img["sampler_name"], img2img["scheduler"], img2img["steps"]) == (
        "DPM++ SDE",
        "Karras",
        14,
    ), "'DPM++ SDE Karras' with scheduler 'Normal': the name's scheduler wins, as in the WebUI"
    assert (img2img["cfg_scale"], img2img["denoising_strength"]) == (5.5, 0.3)
    assert "nsfw" not in img2img["negative_prompt"], "apply_global_negative_img2img is false"
    extras = _without_images(posted(sim, "extra-single-image")[0])
    assert extras == {"resize_mode": 0, "upscaling_resize": 1.5, "upscaler_1": "ESRGAN_4x",
                      "gfpgan_visibility": 0.4}  # fmt: skip
    assert any("api.base_url" in warning for warning in prepared.warnings)


async def test_the_global_negative_is_recorded_with_each_image(sim, tmp_path):
    file = tmp_path / "global_negative.txt"
    shutil.copy(CLASSIC / "presets" / "global_negative.txt", file)
    flags = {**SMALL, "stages": ["txt2img", "img2img"], "img2img": {"apply_global_negative":
                                                                      False}}  # fmt: skip
    prepared, _ = await _run(sim, _config(global_negative_file=file), prompt="a boat",
                             negative="fog", flags=flags)  # fmt: skip
    (txt2img,), (img2img,) = posted(sim, "txt2img"), posted(sim, "img2img")
    assert txt2img["negative_prompt"] == "fog, blurry, bad quality, watermark", "BOM dropped"
    assert img2img["negative_prompt"] == "fog"
    lines = manifest(prepared.run.folder)
    assert {line["global_negative"] for line in lines} == {"blurry, bad quality, watermark"}
    assert [line["settings"]["negative_prompt"] for line in lines] == [
        "fog, blurry, bad quality, watermark",
        "fog",
    ]
    records = read_records(AppPaths.from_environment().data_dir / "records.jsonl").records
    assert records[0]["inputs"]["global_negative"] == "blurry, bad quality, watermark"
    assert records[0]["inputs"]["negative"] == "fog", "the prompt's own negative stays its own"


async def test_a_preset_is_a_layer_between_the_config_and_the_pack(sim):
    await _run(sim, _config(), prompt="a lighthouse", preset="portrait_close")
    bodies = posted(sim, "txt2img")
    assert len(bodies) == 2, "pipeline.images_per_prompt"
    body = bodies[0]
    assert (body["steps"], body["cfg_scale"], body["width"], body["height"]) == (31, 4.5, 768,
                                                                                 1024)  # fmt: skip
    assert (body["sampler_name"], body["scheduler"], body["seed"]) == ("Euler a", "Normal", 77)
    assert body["negative_prompt"] == "cropped, out of frame"
    assert body["override_settings"] == {
        "sd_model_checkpoint": "dreamshaper_8.safetensors",
        "sd_vae": "vae-ft-mse-840000-ema-pruned.safetensors", "CLIP_stop_at_last_layers": 1,
    }  # fmt: skip
    upscale = posted(sim, "img2img")[0]
    assert (upscale["denoising_strength"], upscale["width"]) == (0.25, 1536), "img2img upscale"
    sim.requests.clear()
    # The pack's own settings beat the preset's; flags beat both.
    await _run(sim, _config(), pack="Aldric", preset="portrait_close",
               flags={"txt2img": {"steps": 3}})  # fmt: skip
    body = posted(sim, "txt2img")[0]
    assert (body["steps"], body["cfg_scale"], body["seed"]) == (3, 6.5, 4242)
    assert body["override_settings"]["sd_vae"] == "vae-ft-mse-840000-ema-pruned.safetensors", (
        'the pack keeps the loaded VAE (""), so the preset\'s stands'
    )
    assert body["negative_prompt"].endswith("blurry, lowres"), "the pack's negative wins"


async def test_the_randomization_example_runs_the_prompts_its_readme_describes(sim):
    prepared, summary = await _run(sim, _config(), pack="randomization_test",
                                   preset="randomization_example", flags=SMALL)  # fmt: skip
    prompts = [body["prompt"] for body in posted(sim, "txt2img")]
    assert summary.counts == {"done": 9} and len(prompts) == 9
    places = [re.search(r"at (\w+) in a (\w+),", prompt).groups() for prompt in prompts[:8]]
    assert places == [(time, place) for time in ("dawn", "noon")
                      for place in ("forest", "beach", "mountain", "city")]  # fmt: skip
    assert not any(mark in text for text in prompts for mark in ("__", "[[", "person", "pose"))
    assert prompts[8].startswith("A quiet harbour with a ")
    line = manifest(prepared.run.folder)[0]
    assert line["mode"] == "combinatorial", "the matrix fans its prompt out"
    assert line["template"].startswith("${time=!{dawn|noon|dusk|midnight}}")
    assert line["choices"]["1"] == "dawn" and line["choices"]["2"] == "forest"
    assert prepared.run.source["preset"] == str(CLASSIC / "presets" /
                                                 "randomization_example.json")  # fmt: skip


async def test_a_wrong_value_in_a_sidecar_or_preset_names_its_file_line_and_key(sim, tmp_path):
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "p.txt").write_text("a prompt\n")
    (packs / "p.json").write_text('{\n  "txt2img": {\n    "hr_scale": 9\n  }\n}\n')
    config = AppConfig(paths=PathsConfig(pack_folders=[packs], preset_folders=[packs]))
    for request in ({"pack": "p"}, {"prompt": "x", "preset": str(packs / "p.json")}):
        with pytest.raises(InputError) as caught:
            await _run(sim, config, **request)
        assert caught.value.source == str(packs / "p.json") and caught.value.line == 3
        assert caught.value.message.startswith("txt2img.hr_scale: Input should be less than")
    with pytest.raises(InputError, match=f"no preset named 'nope' in {packs}"):
        await _run(sim, config, prompt="x", preset="nope")
    assert not posted(sim, "txt2img")


async def _stablenew(*args: str) -> tuple[int, str, str]:
    process = await stablenew_async(*args)
    stdout, stderr = await process.communicate()
    return process.returncode or 0, stdout.decode(), stderr.decode()


async def test_stablenew_run_takes_a_preset_by_name_from_the_config(sim, stablenew_home):
    stablenew_home.mkdir(parents=True, exist_ok=True)
    (stablenew_home / "config.toml").write_text(
        f"[paths]\npack_folders = [{str(CLASSIC / 'packs')!r}]\n"
        f"preset_folders = [{str(CLASSIC / 'presets')!r}]\n"
        '[prompts]\nglobal_negative = "jpeg artifacts"\n'
    )
    args = ["--node", sim.url, "--steps", "2", "--size", "64x64", "--stages", "txt2img"]
    code, out, err = await _stablenew(
        "run", "randomization_test", "--preset", "randomization_example", *args
    )
    assert code == 0, err
    assert "api.base_url: not used" in out
    bodies = posted(sim, "txt2img")
    assert len(bodies) == 9 and all(b["negative_prompt"] == "jpeg artifacts" for b in bodies)
    code, _, err = await _stablenew("run", "randomization_test", "--preset", "randomisation", *args)
    assert code == 2
    assert err == (
        f"stablenew: no preset named 'randomisation' in {CLASSIC / 'presets'} "
        "(closest names: randomization_example)\n"
    )


async def test_a_hires_sampler_the_node_lacks_is_refused_before_anything_is_sent(sim):
    flags = {**SMALL, "txt2img": {"hires": True, "hires_sampler": "Eulr a"}}
    with pytest.raises(InputError, match=r"txt2img.hires_sampler: .* has no 'Eulr a'.*'Euler a'"):
        await _run(sim, _config(), prompt="x", flags=flags)
    assert not posted(sim, "txt2img")


async def test_round_robin_goes_on_from_one_prompt_of_a_pack_to_the_next(sim, tmp_path):
    (tmp_path / "hats.toml").write_text(
        'prompts = ["a hat", "b hat", "c hat"]\n[randomization.prompt_sr]\n'
        'mode = "round_robin"\nrules = ["hat => cap | hood | crown"]\n'
    )
    config = AppConfig(paths=PathsConfig(pack_folders=[tmp_path]))
    await _run(sim, config, pack="hats", flags=SMALL)
    assert [body["prompt"] for body in posted(sim, "txt2img")] == ["a cap", "b hood", "c crown"]


async def test_the_adetailer_block_and_a_model_matrix_reach_the_webui(sim):
    small = {"txt2img": {"width": 64, "height": 64, "steps": 2}}
    await _run(sim, _config(), prompt="a portrait", preset="adetailer_faces", flags=small)
    (detail,) = [body for body in posted(sim, "img2img") if "alwayson_scripts" in body]
    assert detail["alwayson_scripts"] == {"ADetailer": {"args": [True, True, {
        "ad_model": "face_yolov8s.pt", "ad_confidence": 0.55, "ad_dilate_erode": 4,
        "ad_mask_blur": 6, "ad_denoising_strength": 0.35,
        "ad_prompt": "sharp eyes, detailed skin",
        "ad_use_steps": True, "ad_steps": 14, "ad_use_cfg_scale": True, "ad_cfg_scale": 5.0,
        "ad_use_sampler": True, "ad_sampler": "DPM++ 2M",
    }]}}  # fmt: skip
    sim.requests.clear()
    _, summary = await _run(sim, _config(), prompt="a harbour", preset="model_matrix",
                            flags=small)  # fmt: skip
    made = [(body["override_settings"]["sd_model_checkpoint"], body["prompt"])
            for body in posted(sim, "txt2img")]  # fmt: skip
    assert summary.counts == {"done": 4}
    assert sorted(made) == [
        ("dreamshaper_8.safetensors", "a harbour"),
        ("dreamshaper_8.safetensors", "a harbour <hypernet:anime_3:0.6>"),
        ("v1-5-pruned-emaonly.safetensors", "a harbour"),
        ("v1-5-pruned-emaonly.safetensors", "a harbour <hypernet:anime_3:0.6>"),
    ]
