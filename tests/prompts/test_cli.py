"""`stablenew prompts …` end to end through `cli.main`."""

from __future__ import annotations

import json

import pytest

from stablenew_tui.cli import main

from .conftest import write_files


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["prompts", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_expand_a_template(capsys, wildcard_dir):
    code, out, _ = _run(
        capsys, "expand", "a {x|y} __colors__", "--count", "3", "--seed", "7",
        "--wildcards", str(wildcard_dir),
    )  # fmt: skip
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert all(line.startswith("a ") for line in lines)
    assert _run(capsys, "expand", "a {x|y} __colors__", "--count", "3", "--seed", "7",
                "--wildcards", str(wildcard_dir))[1] == out  # fmt: skip


def test_expand_json_records_choices_and_locks(capsys, wildcard_dir):
    code, out, _ = _run(
        capsys, "expand", "{x|y} __colors__", "--json", "--seed", "1", "--count", "2",
        "--lock", "2=LOCKED", "--wildcards", str(wildcard_dir),
    )  # fmt: skip
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(records) == 2
    assert records[0]["prompt_seed"] == 1 and records[1]["prompt_seed"] == 2
    assert records[0]["locks"] == {"2": "LOCKED"}
    assert records[0]["choices"][1] == {
        "index": 2, "source": "__colors__", "text": "LOCKED", "options": [],
    }  # fmt: skip
    assert records[0]["prompt"].endswith(" LOCKED")


def test_expand_combinatorial_defaults_to_every_combination(capsys):
    code, out, _ = _run(capsys, "expand", "{a|b} {c|d|e}", "--mode", "combinatorial")
    assert code == 0 and out.splitlines() == ["a c", "a d", "a e", "b c", "b d", "b e"]


def test_expand_a_pack_by_path_and_by_name(capsys, tmp_path, wildcard_dir):
    packs = write_files(tmp_path / "packs", {"mine.tsv": "one {a|b}\tneg\ntwo\n"})
    for source in (str(packs / "mine.tsv"), "mine"):
        code, out, _ = _run(
            capsys, "expand", source, "--packs", str(packs), "--json", "--seed", "3",
            "--wildcards", str(wildcard_dir),
        )  # fmt: skip
        records = [json.loads(line) for line in out.splitlines()]
        assert code == 0
        assert [(r["pack"], r["line"], r["negative"]) for r in records] == [
            ("mine", 1, "neg"),
            ("mine", 2, ""),
        ]
        assert [r["prompt_seed"] for r in records] == [3, 4]


def test_example_pack_by_name(capsys):
    code, out, _ = _run(capsys, "expand", "portraits", "--seed", "1")
    assert code == 0 and len(out.splitlines()) == 3


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("landscape", "no pack named 'landscape' in "),
        ("styles/ink", "no pack named 'styles/ink' in "),
        ("missing.toml", "no pack named 'missing.toml' in "),
        ("/no/such.txt", "/no/such.txt: no such pack file"),
    ],
)
def test_a_pack_looking_name_that_is_no_pack_is_an_error(capsys, source, message):
    code, out, err = _run(capsys, "expand", source)
    assert code == 2 and out == ""
    assert message in err
    assert err.rstrip().endswith("; use --prompt for prompt text")


def test_prompt_flag_takes_any_text_as_a_template(capsys, wildcard_dir):
    code, out, _ = _run(capsys, "expand", "--prompt", "landscape")
    assert code == 0 and out == "landscape\n"
    code, out, _ = _run(capsys, "expand", "a {x|y} __colors__", "--wildcards", str(wildcard_dir))
    assert code == 0 and out.startswith("a ")


@pytest.mark.parametrize("argv", [["expand"], ["expand", "portraits", "--prompt", "x"]])
def test_expand_takes_one_source(capsys, argv):
    code, _, err = _run(capsys, *argv)
    assert code == 2 and "one of them" in err


def test_segments(capsys):
    code, out, _ = _run(capsys, "segments", "a {x|y} __w__")
    assert code == 0
    assert out.splitlines() == [
        '  -  literal     "a "',
        "  1  variant     {x|y}",
        '  -  literal     " "',
        "  2  wildcard    __w__",
    ]
    _, out, _ = _run(capsys, "segments", "{x|y}", "--json")
    assert json.loads(out) == {"index": 1, "kind": "variant", "source": "{x|y}"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["expand", "a {x|y"], "prompt:1:3: unbalanced '{'"),
        (["expand", "{x|y}", "--lock", "nope"], "--lock expects INDEX=TEXT"),
        (["expand", "{x|y}", "--lock", "5=z"], "no segment 5"),
        (["expand", "{x|y}", "--pin", "1=a"], "OPTION a number"),
        (["expand", "portraits", "--lock", "1=x"], "not to a pack"),
        (["expand", "x", "--wildcards", "/does/not/exist"], "not a folder"),
        (["expand", "__nope__"], "unknown wildcard"),
    ],
)
def test_bad_input_is_one_message_and_exit_2(capsys, argv, message):
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("stablenew: ") and message in err
