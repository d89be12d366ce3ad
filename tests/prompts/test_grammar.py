"""Parsing: segments, indexes, literal pass-through, and errors that point at the problem."""

from __future__ import annotations

import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.prompts import Template, TemplateError
from stablenew_tui.prompts.grammar import Variant, Wildcard


def test_segments_have_stable_indexes_and_source():
    template = Template.parse("a {red|blue} __animals__, ${v=!{x|y}}${v} ${d={p|q}}")
    assert [(s.index, s.kind, s.source) for s in template.segments] == [
        (None, "literal", "a "),
        (1, "variant", "{red|blue}"),
        (None, "literal", " "),
        (2, "wildcard", "__animals__"),
        (None, "literal", ", "),
        (3, "assignment", "${v=!{x|y}}"),
        (4, "variable", "${v}"),
        (None, "literal", " "),
        (None, "definition", "${d={p|q}}"),
    ]
    assert template.segment(2).source == "__animals__"
    assert template.segment(5) is None
    assert "".join(s.source for s in template.segments) == template.text


def test_nested_constructs_belong_to_their_top_level_segment():
    template = Template.parse("{a {b|c}|__d__} e")
    assert [s.source for s in template.randomized] == ["{a {b|c}|__d__}"]


@pytest.mark.parametrize(
    "text",
    [
        "(word:1.2), [word], [a|b], [a:b:0.5], <lora:name:0.8>, <hypernet:x:1> BREAK next",
        "stray } and | and $ and _ and a_b",
        "",
        "unicode ✓ — “quotes” \t tabs\nand lines",
    ],
)
def test_text_without_constructs_is_one_literal(text):
    template = Template.parse(text)
    assert "".join(segment.source for segment in template.segments) == text
    assert template.randomized == ()


def test_lone_double_underscore_is_literal():
    template = Template.parse("snake__case and __ spaced")
    assert template.randomized == ()


def test_variant_details_are_parsed():
    node = Template.parse("{~2-3$$ and $$1::a|2.5::b|c}").segment(1).node
    assert isinstance(node, Variant)
    assert node.count == (2, 3)
    assert node.separator == " and "
    assert node.mode == "random"
    assert node.cumulative_weights == (1.0, 3.5, 4.5)
    assert node.literals == ("a", "b", "c")


@pytest.mark.parametrize(
    ("text", "count"),
    [("{2$$a|b}", (2, 2)), ("{-2$$a|b}", (None, 2)), ("{2-$$a|b}", (2, None)), ("{a|b}", None)],
)
def test_count_bounds(text, count):
    assert Template.parse(text).segment(1).node.count == count


def test_wildcard_markers():
    cycled = Template.parse("__@colors__").segment(1).node
    assert isinstance(cycled, Wildcard)
    assert (cycled.name, cycled.mode) == ("colors", "cyclical")
    assert Template.parse("__~colors__").segment(1).node.mode == "random"


def _error(text: str, source: str = "prompt") -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        Template.parse(text, source=source)
    return caught.value


def test_unbalanced_brace_points_at_the_open_brace():
    error = _error("first line\nsecond {a|b line")
    assert isinstance(error, InputError)
    assert (error.source, error.line, error.column) == ("prompt", 2, 8)
    assert "expected '}'" in error.message
    assert str(error).endswith("  second {a|b line\n         ^")


def test_errors_count_lines_from_the_first_line_given():
    with pytest.raises(TemplateError) as caught:
        Template.parse("x ____", source="pack.txt", first_line=7)
    assert caught.value.location() == "pack.txt:7:3"
    assert "empty wildcard name" in caught.value.message


def test_count_range_with_min_above_max():
    error = _error("pick {3-1$$a|b|c}")
    assert error.column == 7
    assert "minimum (3)" in error.message


@pytest.mark.parametrize("name", ["../secret", "a/../../b", "/etc/passwd", "C:/x", "a\\b"])
def test_wildcard_names_that_leave_the_folders_are_refused(name):
    error = _error(f"a __{name}__")
    assert "leaves the wildcard folders" in error.message
    assert error.column == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${", "expected a variable name"),
        ("${1x}", "expected a variable name"),
        ("${v=abc", "expected '}'"),
        ("{0::a|0::b}", "weight above 0"),
    ],
)
def test_other_errors_say_what_was_expected(text, expected):
    assert expected in _error(text).message


def test_nesting_is_bounded():
    assert "nesting deeper" in _error("{" * 40 + "x" + "}" * 40).message
    Template.parse("{" * 20 + "x" + "}" * 20)
