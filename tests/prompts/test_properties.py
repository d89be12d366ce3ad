"""Properties that hold for every template, checked on many generated ones."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from stablenew_tui.prompts import (
    PromptSampler,
    SamplingMode,
    SegmentLocks,
    Template,
    TemplateError,
    WildcardLibrary,
)
from stablenew_tui.prompts.grammar import has_constructs

from .conftest import WILDCARD_FILES, write_files
from .strategies import arbitrary_text, plain_text, sized_templates

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
MODES = list(SamplingMode)


@pytest.fixture(scope="module")
def shared_folder(tmp_path_factory) -> Path:
    return write_files(tmp_path_factory.mktemp("wildcards"), WILDCARD_FILES)


def _texts(template: Template, folder: Path, mode: SamplingMode, seeds) -> list[str]:
    sampler = PromptSampler(template, WildcardLibrary([folder]), mode=mode)
    return [prompt.text for prompt in sampler.prompts(seeds)]


@PROPERTY_SETTINGS
@given(text=arbitrary_text)
def test_any_text_parses_and_samples_or_raises_template_error(shared_folder, text):
    try:
        template = Template.parse(text)
        for mode in MODES:
            sampler = PromptSampler(template, WildcardLibrary([shared_folder]), mode=mode)
            sampler.combination_count()
            list(itertools.islice(sampler.prompts(itertools.count()), 4))
    except TemplateError:
        pass


@PROPERTY_SETTINGS
@given(text=plain_text)
def test_text_without_constructs_comes_back_byte_for_byte(shared_folder, text):
    assume(not has_constructs(text))
    template = Template.parse(text)
    assert template.randomized == ()
    for mode in MODES:
        assert _texts(template, shared_folder, mode, range(3)) == [text] * (
            1 if mode is SamplingMode.COMBINATORIAL else 3
        )


@PROPERTY_SETTINGS
@given(sized=sized_templates(), seed=st.integers(-(2**70), 2**70), mode=st.sampled_from(MODES))
def test_same_template_and_seed_give_the_same_prompts(shared_folder, sized, seed, mode):
    template_text, _ = sized
    first = _texts(Template.parse(template_text), shared_folder, mode, range(seed, seed + 8))
    second = _texts(Template.parse(template_text), shared_folder, mode, range(seed, seed + 8))
    assert first == second


@PROPERTY_SETTINGS
@given(sized=sized_templates())
def test_combinatorial_count_is_the_product_of_segment_sizes(shared_folder, sized):
    template_text, expected = sized
    sampler = PromptSampler(
        Template.parse(template_text), WildcardLibrary([shared_folder]), mode="combinatorial"
    )
    assert sampler.combination_count() == expected
    if expected <= 2000:
        assert sum(1 for _ in sampler.prompts(range(expected + 10))) == expected


@settings(max_examples=40, deadline=None)
@given(sized=sized_templates(allow_variables=False), data=st.data())
def test_a_locked_segment_keeps_its_value_while_the_others_vary(shared_folder, sized, data):
    template = Template.parse(sized[0])
    assume(len(template.randomized) >= 2)
    index = data.draw(st.integers(1, len(template.randomized)))
    locks = SegmentLocks().lock(index, "LOCKED")
    sampler = PromptSampler(template, WildcardLibrary([shared_folder]), locks=locks)
    prompts = list(sampler.prompts(range(200)))
    assert {prompt.choices[index - 1].text for prompt in prompts} == {"LOCKED"}
    others = [
        {prompt.choices[i].text for prompt in prompts}
        for i in range(len(template.randomized))
        if i != index - 1
    ]
    unlocked = PromptSampler(template, WildcardLibrary([shared_folder]), mode="combinatorial")
    if unlocked.combination_count() > 200:  # some other segment has more than one value
        assert any(len(texts) > 1 for texts in others)


escaping_names = st.one_of(
    st.lists(st.sampled_from(["a", "b", "..", "c"]), min_size=1, max_size=4)
    .filter(lambda parts: ".." in parts)
    .map("/".join),
    st.sampled_from(["/", "C:/", "c:", "/root/"]).flatmap(
        lambda prefix: st.sampled_from(["x", "colors", "a/b"]).map(lambda n: prefix + n)
    ),
    st.sampled_from(["a\\b", "..\\x"]),
)


@settings(max_examples=60, deadline=None)
@given(name=escaping_names)
def test_wildcard_names_leaving_the_folders_are_refused(shared_folder, name):
    with pytest.raises(TemplateError, match="leaves the wildcard folders"):
        Template.parse(f"x __{name}__ y")
