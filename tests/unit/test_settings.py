import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.settings import PipelineSettings, merge_settings


def test_later_layers_win_key_by_key():
    settings = merge_settings(
        ("defaults", {}),
        ("config", {"txt2img": {"steps": 30, "sampler": "Euler"}}),
        ("last run", {"txt2img": {"steps": 25}, "img2img": {"denoising_strength": 0.3}}),
        ("pack", {"txt2img": {"cfg_scale": 5.0}}),
        ("flags", {"txt2img": {"sampler": "DPM++ 2M"}}),
    )
    assert settings.txt2img.steps == 25
    assert settings.txt2img.sampler == "DPM++ 2M"
    assert settings.txt2img.cfg_scale == 5.0
    assert settings.img2img.denoising_strength == 0.3


def test_invalid_value_names_the_layer_that_set_it():
    with pytest.raises(InputError) as caught:
        merge_settings(
            ("config.toml", {"txt2img": {"steps": 30}}),
            ("command line", {"txt2img": {"steps": 0}}),
        )
    assert caught.value.source == "command line"
    assert "txt2img.steps" in caught.value.message


def test_unknown_setting_is_refused():
    with pytest.raises(InputError, match="unknown key"):
        merge_settings(("pack p", {"txt2img": {"stepz": 3}}))


def test_size_must_be_multiple_of_eight():
    with pytest.raises(InputError, match="multiple of 8"):
        merge_settings(("flags", {"txt2img": {"width": 500}}))


def test_stages_are_ordered_and_at_least_one():
    settings = merge_settings(("flags", {"stages": ["upscale", "txt2img"]}))
    assert settings.stages == ["txt2img", "upscale"]
    with pytest.raises(InputError, match="no stage is enabled"):
        merge_settings(("flags", {"stages": []}))


def test_upscale_target_needs_both_sides():
    with pytest.raises(InputError, match="go together"):
        merge_settings(("flags", {"upscale": {"target_width": 1024}}))


def test_defaults_are_valid():
    assert PipelineSettings().stages == ["txt2img"]
