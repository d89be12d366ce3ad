"""Random and cyclical sampling: seeds, weights, pick-N, variables, overrides, choices."""

from __future__ import annotations

from collections import Counter
from itertools import permutations

import pytest

from stablenew_tui.prompts import (
    PromptSampler,
    SamplingMode,
    SegmentChoice,
    SegmentLocks,
    Template,
    TemplateError,
)

from .conftest import draw_texts


def test_same_seed_same_prompt_and_each_prompt_stands_alone(library):
    template = "a {x|y|z} __colors__ {2$$p|q|r} ${v=!{s|t}}${v}"
    run = draw_texts(template, library, count=20, seed=100)
    assert run == draw_texts(template, library, count=20, seed=100)
    assert draw_texts(template, library, count=1, seed=107) == [run[7]]
    assert len(set(run)) > 5


def test_known_draws_do_not_change_between_versions_or_machines():
    # Pinned values: PromptRandom is integer splitmix64, the same everywhere.
    assert draw_texts("{a|b|c|d|e|f|g|h}", count=6, seed=42) == ["d", "a", "f", "h", "f", "d"]


def test_choices_record_text_and_option_positions(library):
    sampler = PromptSampler(Template.parse("a {x|y} __colors__ {2$$p|q|r}"), library)
    prompt = next(sampler.prompts([5]))
    first, second, third = prompt.choices
    assert first == SegmentChoice(1, first.text, (("x", "y").index(first.text),))
    assert second.text == library.values("colors").texts[second.options[0]]
    assert third.text == ",".join("pqr"[option] for option in third.options)
    assert prompt.text == f"a {first.text} {second.text} {third.text}"
    assert (prompt.mode, prompt.prompt_seed, prompt.number) == ("random", 5, 0)
    record = prompt.to_record()
    assert record["choices"][1] == {
        "index": 2,
        "source": "__colors__",
        "text": second.text,
        "options": list(second.options),
    }
    assert record["template"] == "a {x|y} __colors__ {2$$p|q|r}"


def test_weights_bias_random_draws():
    counts = Counter(draw_texts("{3::a|b|0::c}", count=4000))
    assert counts["c"] == 0
    assert 0.70 < counts["a"] / 4000 < 0.80


def test_weights_are_ignored_by_combinatorial_and_cyclical():
    assert draw_texts("{5::a|b}", mode="combinatorial") == ["a", "b"]
    assert draw_texts("{5::a|b}", mode="cyclical", count=4) == ["a", "b", "a", "b"]


def test_cyclical_takes_option_i_of_each_segment():
    assert draw_texts("{a|b|c}-{x|y}", mode="cyclical", count=6) == [
        "a-x", "b-y", "c-x", "a-y", "b-x", "c-y",
    ]  # fmt: skip


def test_cyclical_wildcard(library):
    assert draw_texts("__colors__", library, mode="cyclical", count=4) == [
        "red", "blue", "green", "red",
    ]  # fmt: skip


def test_cyclical_pick_n_walks_the_combinatorial_order():
    cyclical = draw_texts("{1-2$$a|b|c}", mode="cyclical", count=9)
    assert cyclical == draw_texts("{1-2$$a|b|c}", mode="combinatorial", count=9)


def test_per_segment_overrides():
    texts = draw_texts("{~a|b|c|d|e|f} {@x|y}", mode="cyclical", count=40)
    assert [text[-1] for text in texts[:4]] == ["x", "y", "x", "y"]
    assert len({text[0] for text in texts}) > 3
    random_mode = draw_texts("{@a|b|c} {p|q|r|s|t}", count=30)
    assert [text[0] for text in random_mode[:6]] == ["a", "b", "c", "a", "b", "c"]


def test_pick_n_draws_distinct_options_in_range():
    for text in draw_texts("{1-3$$ and $$a|b|c|d}", count=300):
        parts = text.split(" and ")
        assert 1 <= len(parts) <= 3
        assert len(set(parts)) == len(parts) and set(parts) <= set("abcd")
    assert len(set(draw_texts("{1-3$$ and $$a|b|c|d}", count=300))) > 20


def test_pick_n_bounds_are_clamped_and_empty_options_are_skipped_in_the_join():
    assert set(draw_texts("{5$$a|b}", count=50)) == {"a,b", "b,a"}
    assert draw_texts("{0$$a|b}", count=3) == ["", "", ""]
    assert set(draw_texts("{2$$|a|b}", count=200)) == {"a", "b", "a,b", "b,a"}


def test_weighted_pick_n_never_takes_weight_zero():
    texts = draw_texts("{2$$0::z|a|b|c}", count=300)
    assert all("z" not in text for text in texts)


def test_pick_n_over_a_wildcard(library):
    texts = set(draw_texts("{2$$ & $$__colors__}", library, count=300))
    assert texts == {f"{a} & {b}" for a, b in permutations(["red", "blue", "green"], 2)}


def test_empty_options_and_whitespace_are_kept():
    assert set(draw_texts("[{|x}]", count=100)) == {"[]", "[x]"}
    assert set(draw_texts("{ a | b }", count=100)) == {" a ", " b "}


def test_deferred_variables_draw_at_each_use():
    texts = draw_texts("${v={a|b|c|d}}${v}${v}${v}", count=200)
    assert any(len(set(text)) > 1 for text in texts)


def test_immediate_variables_draw_once_per_prompt():
    texts = draw_texts("${v=!{a|b|c|d}}${v}${v}${v}", count=200)
    assert all(len(set(text)) == 1 for text in texts)
    assert len(set(texts)) == 4


def test_variable_defaults_and_scoping():
    assert draw_texts("${v:fallback}", count=1) == ["fallback"]
    assert draw_texts("${v=outer}{${v=inner}${v}} ${v}", count=1) == ["inner outer"]
    assert draw_texts("${a=!x}${b=!${a}y}${b}", count=1) == ["xy"]
    assert draw_texts("${v:${w:inner}}", count=1) == ["inner"]


def test_unknown_variable_is_an_error_at_its_place():
    with pytest.raises(TemplateError) as caught:
        draw_texts("ab ${nope}")
    assert caught.value.column == 4
    assert "unknown variable 'nope'" in caught.value.message


def test_self_referencing_variable_is_an_error():
    for mode in ("random", "combinatorial", "cyclical"):
        with pytest.raises(TemplateError, match="deeper than 32 levels"):
            draw_texts("${v=x${v}}${v}", mode=mode)


def test_webui_syntax_passes_through_inside_options():
    texts = set(draw_texts("{(red:1.2)|<lora:x:0.5> [a|b]} BREAK", count=100))
    assert texts == {"(red:1.2) BREAK", "<lora:x:0.5> [a|b] BREAK"}


def test_locked_segment_holds_while_others_vary(library):
    template = Template.parse("{a|b|c|d} __colors__ {p|q|r|s|t}")
    locks = SegmentLocks().lock(2, "LOCKED")
    for mode in (SamplingMode.RANDOM, SamplingMode.CYCLICAL):
        prompts = list(
            PromptSampler(template, library, mode=mode, locks=locks).prompts(range(1000))
        )
        assert {p.choices[1].text for p in prompts} == {"LOCKED"}
        assert len({p.choices[0].text for p in prompts}) == 4
        assert len({p.choices[2].text for p in prompts}) == 5
        assert all(p.locks is locks for p in prompts)


def test_pinned_segment_keeps_its_option_but_nested_parts_draw(library):
    template = Template.parse("{plain|nested {x|y|z}} __colors__")
    locks = SegmentLocks().pin(1, 1).pin(2, 2)
    prompts = list(PromptSampler(template, library, locks=locks).prompts(range(200)))
    assert {p.choices[0].options for p in prompts} == {(1,)}
    assert {p.choices[0].text for p in prompts} == {"nested x", "nested y", "nested z"}
    assert {p.choices[1].text for p in prompts} == {"green"}


def test_locked_immediate_assignment_feeds_its_uses():
    template = Template.parse("${v=!{a|b}}${v}-${v}")
    locks = SegmentLocks().lock(1, "k")
    assert draw_texts(template.text, count=3, locks=locks) == ["k-k"] * 3
