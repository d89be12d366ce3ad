"""Prompt packs: each format, discovery by name, and errors naming file and line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stablenew_tui.prompts import (
    PackError,
    TemplateError,
    discover_packs,
    find_pack,
    load_pack,
    pack_folders,
)
from stablenew_tui.prompts.wildcards import EXAMPLE_WILDCARDS

from .conftest import write_files


def _pack_error(tmp_path: Path, name: str, text: str) -> PackError:
    write_files(tmp_path, {name: text})
    with pytest.raises(PackError) as caught:
        load_pack(tmp_path / name)
    assert caught.value.source == str(tmp_path / name)
    return caught.value


def test_txt_blocks_join_lines_and_collect_negatives(tmp_path):
    text = (
        "# a comment\n\n"
        "first line,\nsecond line\n# inside\nneg: blurry,\nneg: dark\n\n\n"
        "another {a|b}\n"
    )
    pack = load_pack(write_files(tmp_path, {"p.txt": text}) / "p.txt")
    assert pack.name == "p"
    assert [(p.prompt, p.negative, p.line) for p in pack.prompts] == [
        ("first line, second line", "blurry, dark", 3),
        ("another {a|b}", "", 10),
    ]


def test_txt_negative_without_prompt(tmp_path):
    error = _pack_error(tmp_path, "p.txt", "a prompt\n\nneg: orphan\n")
    assert error.line == 3
    assert "negative without a prompt" in error.message


def test_tsv_lines(tmp_path):
    pack = load_pack(write_files(tmp_path, {"p.tsv": "# c\nup\tdown\n\nonly positive\n"}) / "p.tsv")
    assert [(p.prompt, p.negative, p.line) for p in pack.prompts] == [
        ("up", "down", 2),
        ("only positive", "", 4),
    ]


def test_tsv_extra_tab_points_at_it(tmp_path):
    error = _pack_error(tmp_path, "p.tsv", "fine\tok\nab\tcd\tef\n")
    assert (error.line, error.column) == (2, 6)
    assert "expected one tab" in error.message


TOML_PACK = """\
name = "Portraits"
negative = "lowres"

[[prompts]]
prompt = "portrait of a {woman|man}"
negative = "cartoon"

[[prompts]]
prompt = "second"

[overrides.txt2img]
steps = 30
sampler = "Euler a"
"""


def test_toml_pack(tmp_path):
    pack = load_pack(write_files(tmp_path, {"p.toml": TOML_PACK}) / "p.toml")
    assert pack.name == "Portraits" and pack.negative == "lowres"
    assert [(p.prompt, p.negative, p.line) for p in pack.prompts] == [
        ("portrait of a {woman|man}", "cartoon", 5),
        ("second", "", 9),
    ]
    assert pack.overrides == {"txt2img": {"steps": 30, "sampler": "Euler a"}}
    assert pack.negative_for(pack.prompts[0]) == "cartoon, lowres"
    assert pack.template(pack.prompts[0]).randomized[0].source == "{woman|man}"


def test_json_pack(tmp_path):
    text = (
        '{\n  "name": "J",\n  "prompts": [\n    "plain",\n'
        '    {"prompt": "with neg", "negative": "n"}\n  ],\n'
        '  "overrides": {"upscale": {"upscaler": "x"}}\n}\n'
    )
    pack = load_pack(write_files(tmp_path, {"p.json": text}) / "p.json")
    assert [(p.prompt, p.negative, p.line) for p in pack.prompts] == [
        ("plain", "", 4),
        ("with neg", "n", 5),
    ]
    assert pack.overrides == {"upscale": {"upscaler": "x"}}


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        ("p.toml", 'name = "x"\nprompts = [\n', 3, "not valid TOML"),
        ("p.json", '{"prompts": ["a",]}', 1, "not valid JSON"),
        ("p.toml", 'name = "x"\npromts = ["a"]\n', 2, "unknown key 'promts'"),
        ("p.toml", 'name = "x"\n', 1, "expected a 'prompts' list"),
        ("p.toml", 'prompts = ["a"]\n\n[overrides.txt2imh]\nsteps = 3\n', 3, "unknown stage"),
        ("p.toml", 'prompts = ["a", 3]\n', 1, "prompt 2 must be text"),
        ("p.json", '{\n"prompts": [\n{"prompt": "a"},\n{"negative": "b"}\n]}', 4, "prompt 2"),
        ("p.toml", 'prompts = [\n  "a",\n  { negative = "blurry" },\n]\n', 3, "prompt 2 needs"),
        ("p.toml", "prompts = []\n", 1, "holds no prompts"),
        ("p.json", '{\n "name": 5,\n "prompts": ["a"]}', 2, "'name' must be text"),
    ],
)
def test_document_errors_name_the_line(tmp_path, name, text, line, message):
    error = _pack_error(tmp_path, name, text)
    assert error.line == line
    assert message in error.message


def test_template_errors_in_a_pack_name_the_pack_line(tmp_path):
    write_files(tmp_path, {"p.txt": "fine\n\nbroken {a|b\n"})
    with pytest.raises(TemplateError) as caught:
        load_pack(tmp_path / "p.txt")
    assert caught.value.location() == f"{tmp_path / 'p.txt'}:3:8"


def test_not_utf8_names_the_line(tmp_path):
    (tmp_path / "p.txt").write_bytes(b"ok\n\nbad \xff\n")
    with pytest.raises(PackError) as caught:
        load_pack(tmp_path / "p.txt")
    assert caught.value.line == 3


def test_discovery_and_names(tmp_path):
    first = write_files(
        tmp_path / "first", {"a.txt": "x\n", "sub/b.tsv": "y\n", "a.toml": TOML_PACK}
    )
    second = write_files(tmp_path / "second", {"a.txt": "z\n", "c.json": '{"prompts": ["c"]}'})
    packs = discover_packs([first, second])
    assert [(info.name, info.path.name) for info in packs] == [
        ("a", "a.toml"),
        ("c", "c.json"),
        ("sub/b", "b.tsv"),
    ]
    assert load_pack("sub/b", [first, second]).prompts[0].prompt == "y"
    assert find_pack("c.json", [first, second]).path == second / "c.json"


@pytest.mark.parametrize("name", ["../first/a", "/etc/passwd", "sub/../../x", "a\\b"])
def test_pack_names_cannot_leave_their_folders(tmp_path, name):
    folder = write_files(tmp_path / "packs", {"a.txt": "x\n"})
    with pytest.raises(PackError, match="leaves the pack folders"):
        load_pack(name, [folder])


def test_symlinked_pack_outside_its_folder_is_not_found(tmp_path):
    outside = write_files(tmp_path / "outside", {"secret.txt": "s\n"})
    folder = write_files(tmp_path / "packs", {"ok.txt": "x\n"})
    os.symlink(outside / "secret.txt", folder / "secret.txt")
    assert [info.name for info in discover_packs([folder])] == ["ok"]


def test_unknown_pack_suggests_names(tmp_path):
    folder = write_files(tmp_path / "packs", {"portraits.txt": "x\n"})
    with pytest.raises(PackError, match="closest names: portraits"):
        load_pack("portrait", [folder])


def test_example_packs_load_and_expand_with_example_wildcards():
    from stablenew_tui.prompts import PromptSampler, WildcardLibrary

    library = WildcardLibrary([EXAMPLE_WILDCARDS])
    infos = discover_packs(pack_folders())
    assert {info.path.suffix for info in infos} == {".txt", ".tsv", ".toml", ".json"}
    for info in infos:
        pack = load_pack(info.name, pack_folders())
        for entry in pack.prompts:
            sampler = PromptSampler(pack.template(entry), library)
            assert all(prompt.text for prompt in sampler.prompts(range(20)))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", '{"prompts": ' + "[" * 6000 + "]" * 6000 + "}"),
        ("deep.toml", 'prompts = ["x"]\n[overrides.txt2img]\nsteps = ' + "[" * 6000 + "]" * 6000),
    ],
    ids=["json", "toml"],
)
def test_a_pack_nested_thousands_of_levels_deep_is_one_error(tmp_path, name, text):
    error = _pack_error(tmp_path, name, text)
    assert error.message == "nested too deeply"


def test_an_override_that_is_a_table_names_its_line(tmp_path):
    text = '{\n  "prompts": ["x"],\n  "overrides": {\n    "txt2img": {\n      "a": {"b": 1}\n'
    error = _pack_error(tmp_path, "p.json", text + "    }\n  }\n}\n")
    assert (error.line, error.message) == (5, "overrides.txt2img.a: expected a value, not a table")


def test_override_lines_are_recorded_per_stage_and_key(tmp_path):
    text = (
        'prompts = ["x"]\n[overrides.img2img]\nsteps = 3\n'
        "[overrides.txt2img]\ncfg_scale = 5\nsteps = 4\n"
    )
    pack = load_pack(write_files(tmp_path, {"p.toml": text}) / "p.toml")
    lines = {location: origin.line for location, origin in pack.override_origins.items()}
    assert lines == {
        ("img2img", "steps"): 3, ("txt2img", "cfg_scale"): 5, ("txt2img", "steps"): 6,
    }  # fmt: skip
    assert pack.override_origins["txt2img", "steps"].key == "overrides.txt2img.steps"
