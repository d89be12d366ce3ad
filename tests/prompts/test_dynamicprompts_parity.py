"""For the syntax both share, combinatorial sets equal those of the Dynamic Prompts library."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from dynamicprompts.generators import CombinatorialPromptGenerator
from dynamicprompts.wildcards import WildcardManager
from hypothesis import HealthCheck, assume, given, settings

from stablenew_tui.prompts import PromptSampler, Template, WildcardLibrary

from .conftest import WILDCARD_FILES, write_files
from .strategies import sized_templates

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pyparsing, inside it


@pytest.fixture(scope="module")
def shared_folder(tmp_path_factory) -> Path:
    logging.getLogger("dynamicprompts").setLevel(logging.ERROR)
    return write_files(tmp_path_factory.mktemp("wildcards"), WILDCARD_FILES)


def _ours(template: str, folder: Path) -> set[str]:
    sampler = PromptSampler(
        Template.parse(template), WildcardLibrary([folder]), mode="combinatorial"
    )
    return {prompt.text for prompt in sampler.prompts(range(100_000))}


def _theirs(template: str, folder: Path) -> set[str]:
    generator = CombinatorialPromptGenerator(WildcardManager(folder))
    return set(generator.generate(template, max_prompts=100_000))


@pytest.mark.parametrize(
    "template",
    [
        "a {red|blue} {cat|dog|owl}",
        "{2$$a|b|c}",
        "{1-3$$ and $$a|b|c}",
        "{-2$$a|b|c} {2-$$x|y|z}",
        "{|x} {a|{b|c}}",
        "{2::a|0.5::b|c}",
        "__colors__ __shapes/basic__",
        "__nested__ and __shapes/fancy__",
        "__art/painting__ __moods/calm__",
        "__shapes/*__",
        "{2$$__colors__}",
        "{1-2$$ + $$__shapes/fancy__}",
        "${v={a|b}} ${v} ${v} __colors__",
        "(masterpiece:1.2), [a|b], <lora:x:0.8> {a|b} BREAK",
    ],
)
def test_known_templates(shared_folder, template):
    assert _ours(template, shared_folder) == _theirs(template, shared_folder)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sized=sized_templates())
def test_generated_templates(shared_folder, sized):
    template, count = sized
    assume(count <= 300)
    assert _ours(template, shared_folder) == _theirs(template, shared_folder)
