"""Wildcard files: txt, YAML and JSON names, nesting, globs, confinement, caching, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stablenew_tui.prompts import Template, TemplateError, WildcardFileError, WildcardLibrary

from .conftest import draw_texts, write_files


def test_names_come_from_paths_and_structured_keys(library):
    assert library.names == [
        "art/painting",
        "art/sculpture",
        "colors",
        "moods/calm",
        "moods/loud",
        "nested",
        "shapes/basic",
        "shapes/fancy",
    ]


def test_text_values_skip_comments_and_blanks_strip_and_drop_duplicates(library):
    assert library.values("colors").texts == ("red", "blue", "green")


def test_yaml_and_json_values(library):
    assert library.values("art/painting").texts == ("oil", "watercolor")
    assert library.values("art/sculpture").texts == ("marble",)
    assert library.values("moods/calm").texts == ("serene", "quiet")


def test_structured_files_in_subfolders_take_the_folder_as_prefix(tmp_path):
    root = write_files(tmp_path, {"styles/moods.yaml": "dark: [grim]\n", "top.yaml": "- a\n- b\n"})
    library = WildcardLibrary([root])
    assert library.names == ["styles/dark", "top"]


def test_weights_in_structured_files(tmp_path):
    root = write_files(
        tmp_path, {"w.yaml": "w:\n  - 3::common\n  - rare\n  - {text: odd, weight: 0.5}\n"}
    )
    values = WildcardLibrary([root]).values("w")
    assert values.texts == ("common", "rare", "odd")
    assert values.cumulative_weights == (3.0, 4.0, 4.5)
    texts = draw_texts("__w__", WildcardLibrary([root]), count=2000)
    assert 0.6 < texts.count("common") / 2000 < 0.73


def test_nested_wildcards_and_variants_inside_values(library):
    texts = set(draw_texts("__nested__", library, mode="combinatorial", count=100))
    assert texts == {f"{c} {s}" for c in ("red", "blue", "green") for s in ("circle", "square")}
    fancy = set(draw_texts("__shapes/fancy__", library, mode="combinatorial", count=100))
    assert fancy == {"star", "big heart", "small heart"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("shapes/*", {"circle", "square", "star", "big heart", "small heart"}),
        ("col*", {"red", "blue", "green"}),
        ("*", {"red", "blue", "green", "red circle", "red square", "blue circle"}),
        ("**/calm", {"serene", "quiet"}),
        ("art/**", {"oil", "watercolor", "marble"}),
    ],
)
def test_globs(library, name, expected):
    texts = set(draw_texts(f"__{name}__", library, mode="combinatorial", count=100))
    assert expected <= texts
    if name != "*":
        assert texts == expected


def test_single_star_stays_within_one_folder(library):
    assert "circle" not in set(draw_texts("__*__", library, mode="combinatorial", count=100))


def test_unknown_wildcard_names_the_closest(library):
    with pytest.raises(TemplateError) as caught:
        draw_texts("a __colour__", library)
    assert (caught.value.line, caught.value.column) == (1, 3)
    assert "closest names are colors" in caught.value.message


def test_unknown_wildcard_without_folders():
    with pytest.raises(TemplateError, match="no wildcard folders"):
        draw_texts("__colors__")


def test_error_inside_a_wildcard_file_names_that_file_and_line(tmp_path):
    root = write_files(tmp_path, {"bad.txt": "# header\nfine\n{broken\n"})
    with pytest.raises(TemplateError) as caught:
        draw_texts("__bad__", WildcardLibrary([root]), mode="combinatorial")
    assert caught.value.source == str(root / "bad.txt")
    assert (caught.value.line, caught.value.column) == (3, 1)


def test_recursion_deeper_than_32_levels_is_an_error(tmp_path):
    root = write_files(tmp_path, {"a.txt": "x __b__\n", "b.txt": "y __a__\n"})
    for mode in ("random", "combinatorial", "cyclical"):
        with pytest.raises(TemplateError, match="deeper than 32 levels"):
            draw_texts("__a__", WildcardLibrary([root]), mode=mode)


def test_malformed_yaml_names_file_and_line(tmp_path):
    root = write_files(tmp_path, {"bad.yaml": "a:\n  - x\n  - [unclosed\n"})
    with pytest.raises(WildcardFileError) as caught:
        WildcardLibrary([root]).values("a")
    assert caught.value.source == str(root / "bad.yaml")
    assert caught.value.line == 4


def test_structured_values_must_be_text(tmp_path):
    root = write_files(tmp_path, {"bad.yaml": "a:\n  - x\n  - [nested, list]\n"})
    with pytest.raises(WildcardFileError, match="expected text") as caught:
        WildcardLibrary([root]).values("a")
    assert caught.value.line == 3


def test_a_text_file_is_read_once(tmp_path):
    root = write_files(tmp_path, {"big.txt": "\n".join(f"value {n}" for n in range(10_000))})
    library = WildcardLibrary([root])
    first = draw_texts("__big__", library, count=5)
    (root / "big.txt").unlink()
    assert draw_texts("__big__", library, count=5) == first
    assert library.values("big") is library.values("big")


def test_files_reaching_outside_the_folder_are_ignored(tmp_path):
    outside = write_files(tmp_path / "outside", {"secret.txt": "password\n"})
    root = write_files(tmp_path / "wildcards", {"ok.txt": "fine\n"})
    os.symlink(outside / "secret.txt", root / "secret.txt")
    assert WildcardLibrary([root]).names == ["ok"]


def test_earlier_folders_win(tmp_path):
    first = write_files(tmp_path / "first", {"colors.txt": "mauve\n"})
    second = write_files(tmp_path / "second", {"colors.txt": "red\n", "extra.txt": "x\n"})
    library = WildcardLibrary([first, second])
    assert library.values("colors").texts == ("mauve",)
    assert library.values("extra").texts == ("x",)


def test_a_missing_folder_is_an_error(tmp_path: Path):
    with pytest.raises(WildcardFileError, match="not a folder"):
        WildcardLibrary([tmp_path / "missing"])


def test_wildcards_see_the_template_variables(tmp_path):
    root = write_files(tmp_path, {"cloth.txt": "${color:plain} cloth\n"})
    library = WildcardLibrary([root])
    assert draw_texts("${color=silk}__cloth__", library, count=1) == ["silk cloth"]
    assert draw_texts("__cloth__", library, count=1) == ["plain cloth"]


def test_parsed_once_per_value(library):
    values = library.values("shapes/fancy")
    first = values.part(1)
    assert values.part(1) is first
    assert Template.parse("{big|small} heart").text == values.texts[1]


def test_absurdly_deep_wildcard_files_are_a_template_error(tmp_path):
    files = {f"w{n}.txt": "{" * 30 + f"x __w{n + 1}__" + "}" * 30 + "\n" for n in range(31)}
    library = WildcardLibrary([write_files(tmp_path, {**files, "w31.txt": "end\n"})])
    for mode in ("random", "combinatorial", "cyclical"):
        with pytest.raises(TemplateError):
            draw_texts("__w0__", library, mode=mode)
