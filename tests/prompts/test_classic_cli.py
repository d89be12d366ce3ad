"""`stablenew prompts` on classic StableNew packs and presets, through `cli.main`."""

from __future__ import annotations

import json
import shutil

from stablenew_tui.cli import main
from tests.conftest import TEST_DATA

CLASSIC = TEST_DATA / "stablenew"
PACKS = str(CLASSIC / "packs")
PRESETS = str(CLASSIC / "presets")


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["prompts", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_pack_with_a_sidecar_expands_by_name_with_its_settings_negative(capsys):
    code, out, err = _run(capsys, "expand", "Aldric", "--packs", PACKS, "--json", "--seed", "1")
    first, second = (json.loads(line) for line in out.splitlines())
    assert code == 0 and first["pack"] == "Aldric" and second["line"] == 9
    assert second["negative"] == "blurry, lowres"
    assert "Aldric.json:64: api.base_url: not used" in err, "warnings go to stderr"


def test_a_preset_s_randomization_expands_and_shows_as_segments(capsys):
    args = ("randomization_test", "--packs", PACKS, "--presets", PRESETS,
            "--preset", "randomization_example")  # fmt: skip
    code, out, _ = _run(capsys, "expand", *args, "--seed", "3")
    assert code == 0 and len(out.splitlines()) == 9
    code, out, _ = _run(capsys, "segments", *args, "--json")
    segments = [json.loads(line) for line in out.splitlines()]
    first = [(s["index"], s["kind"], s["source"]) for s in segments if s["prompt"] == 1]
    assert (1, "assignment", "${time=!{dawn|noon|dusk|midnight}}") in first
    assert (3, "variant", "{~man|woman|child|elder}") in first
    assert (5, "wildcard", "__~mood__") in first
    assert (8, "variable", "${time}") in first
    assert {s["prompt"] for s in segments} == {1, 2}


def test_preset_folders_come_from_the_config_too(capsys, tmp_path, stablenew_home):
    stablenew_home.mkdir(parents=True, exist_ok=True)
    (stablenew_home / "config.toml").write_text(
        f"[paths]\npack_folders = [{PACKS!r}]\npreset_folders = [{PRESETS!r}]\n"
    )
    code, out, _ = _run(capsys, "expand", "a person", "--preset", "randomization_example",
                        "--seed", "2")  # fmt: skip
    assert code == 0 and out.split()[1] in ("man", "woman", "child", "elder")


def test_an_unknown_or_escaping_preset_is_exit_2_naming_the_folders(capsys, tmp_path):
    code, _, err = _run(capsys, "expand", "x", "--presets", PRESETS, "--preset", "nope")
    assert code == 2 and err == f"stablenew: no preset named 'nope' in {PRESETS}\n"
    code, _, err = _run(capsys, "expand", "x", "--presets", PRESETS, "--preset", "../secret")
    assert code == 2 and "leaves the preset folders" in err


def test_the_sidecar_itself_is_no_pack(capsys, tmp_path):
    shutil.copytree(CLASSIC / "packs", tmp_path / "packs")
    code, _, err = _run(capsys, "expand", str(tmp_path / "packs" / "Aldric.json"))
    assert code == 2 and "holds the settings of the pack Aldric.txt" in err
    code, out, _ = _run(capsys, "expand", "Aldric.json", "--packs", str(tmp_path / "packs"))
    assert code == 0 and out.startswith("<embedding:sn_realism_pos>"), "by name: the .txt"
