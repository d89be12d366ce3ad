"""Combinatorial sampling: order, counts, caps, locks and flat memory."""

from __future__ import annotations

import itertools
import tracemalloc

from stablenew_tui.prompts import PromptSampler, SamplingMode, SegmentLocks, Template

from .conftest import draw_texts

COMBINATORIAL = SamplingMode.COMBINATORIAL


def _sampler(template: str, library=None, locks=None) -> PromptSampler:
    return PromptSampler(Template.parse(template), library, mode=COMBINATORIAL, locks=locks)


def test_first_segment_varies_slowest():
    assert draw_texts("{a|b}{x|y|z}", mode="combinatorial") == [
        "ax", "ay", "az", "bx", "by", "bz",
    ]  # fmt: skip


def test_pick_n_enumerates_ordered_selections_by_count():
    assert draw_texts("{1-2$$a|b|c}", mode="combinatorial", count=20) == [
        "a", "b", "c", "a,b", "a,c", "b,a", "b,c", "c,a", "c,b",
    ]  # fmt: skip


def test_nested_options_and_wildcards_multiply(library):
    sampler = _sampler("{a {x|y}|b} __shapes/fancy__", library)
    texts = [prompt.text for prompt in sampler.prompts(range(100))]
    assert len(texts) == sampler.combination_count() == 9
    assert texts[:3] == ["a x star", "a x big heart", "a x small heart"]


def test_pick_n_over_nested_options_counts_each_nested_value():
    sampler = _sampler("{2$${a|b}|c|d}")
    texts = [prompt.text for prompt in sampler.prompts(range(100))]
    # ordered pairs of distinct options, the first option standing for two values
    assert sampler.combination_count() == len(texts) == 2 * 2 + 2 * 2 + 2
    assert "a,c" in texts and "c,b" in texts


def test_deferred_variables_multiply_and_immediate_ones_vary_slowest():
    assert draw_texts("${v={a|b}}${v}${v}", mode="combinatorial") == ["aa", "ab", "ba", "bb"]
    texts = draw_texts("{x|y}${v=!{a|b}}${v}${v}", mode="combinatorial")
    assert texts == ["xaa", "yaa", "xbb", "ybb"]


def test_random_and_cyclical_segments_do_not_multiply():
    sampler = _sampler("{~a|b|c|d} {@x|y} {1|2}")
    prompts = list(sampler.prompts(range(100)))
    assert sampler.combination_count() == len(prompts) == 2
    assert [p.text[2] for p in prompts] == ["x", "y"]


def test_seeds_cap_the_enumeration_and_choices_are_recorded():
    sampler = _sampler("{a|b|c} {x|y}")
    prompts = list(sampler.prompts(range(40, 44)))
    assert [p.text for p in prompts] == ["a x", "a y", "b x", "b y"]
    assert [p.prompt_seed for p in prompts] == [40, 41, 42, 43]
    assert [choice.options for choice in prompts[3].choices] == [(1,), (1,)]


def test_locks_and_pins_in_combinatorial_mode(library):
    locks = SegmentLocks().lock(1, "L").pin(3, 0)
    sampler = _sampler("{a|b} {x|y|z} {{p|q}|r}", library, locks)
    texts = [prompt.text for prompt in sampler.prompts(range(100))]
    assert texts == ["L x p", "L x q", "L y p", "L y q", "L z p", "L z q"]
    assert sampler.combination_count() == 6


def test_counts_are_exact_without_enumerating():
    template = " ".join("{" + "|".join(str(n) for n in range(10)) + "}" for _ in range(7))
    assert _sampler(template).combination_count() == 10**7
    assert _sampler("{2-3$$a|b|c|d|e}").combination_count() == 20 + 60


def _peak_memory(template: str, count: int) -> int:
    sampler = _sampler(template)
    tracemalloc.start()
    try:
        for _ in sampler.prompts(range(count)):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_enumeration_is_lazy_with_flat_memory():
    template = " ".join("{" + "|".join(f"w{n}" for n in range(10)) + "}" for _ in range(7))
    small = _peak_memory(template, 2_000)
    large = _peak_memory(template, 20_000)
    assert large < small * 1.5 + 64_000
    assert large < 1_000_000


def test_a_huge_pick_n_starts_at_once():
    options = "|".join(f"o{n}" for n in range(30))
    sampler = _sampler("{8-12$$" + options + "}")
    assert len(list(itertools.islice(sampler.prompts(itertools.count()), 50))) == 50
    assert sampler.combination_count() > 10**15
