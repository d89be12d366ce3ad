"""Finding classic presets: by name inside their folders, or by file."""

from __future__ import annotations

import pytest

from stablenew_tui.prompts.classic.presets import (
    PresetError,
    find_preset,
    load_preset,
    preset_names,
)
from tests.conftest import TEST_DATA

PRESETS = TEST_DATA / "stablenew" / "presets"


def test_a_preset_is_found_by_name_in_the_first_folder_holding_it(tmp_path):
    (tmp_path / "randomization_example.json").write_text("{}")
    assert find_preset("randomization_example", [PRESETS, tmp_path]).parent == PRESETS
    assert find_preset("randomization_example", [tmp_path, PRESETS]).parent == tmp_path
    assert find_preset("randomization_example.json", [PRESETS]).name == (
        "randomization_example.json"
    )
    assert "randomization_example" in preset_names([PRESETS, tmp_path])


def test_a_preset_file_is_taken_as_it_is(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text('{"txt2img": {"steps": 9}}')
    assert load_preset(str(path), []).table == {"txt2img": {"steps": 9}}


@pytest.mark.parametrize("name", ["../presets/x", "/etc/passwd", "..", "a\\b", "C:x", ".hidden"])
def test_names_stay_inside_their_folders(name):
    with pytest.raises(PresetError, match="leaves the preset folders"):
        find_preset(name, [PRESETS])


def test_a_link_out_of_the_folder_is_no_preset(tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / "sneaky.json").symlink_to(outside)
    assert preset_names([folder]) == []
    with pytest.raises(PresetError, match="no preset named 'sneaky'"):
        find_preset("sneaky", [folder])


def test_an_unknown_name_names_the_folders_searched_and_close_names(tmp_path):
    with pytest.raises(PresetError) as caught:
        find_preset("randomisation_example", [tmp_path, PRESETS])
    assert str(caught.value) == (
        f"no preset named 'randomisation_example' in {tmp_path}, {PRESETS} "
        "(closest names: randomization_example)"
    )
    with pytest.raises(PresetError, match=r"no preset folders are configured \(\[paths\]"):
        find_preset("anything", [])
