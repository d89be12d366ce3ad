"""The classic randomization (Prompt S/R, inline wildcards, [[slot]] matrices) as templates."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.prompts import (
    PromptSampler,
    SamplingMode,
    SegmentLocks,
    Template,
    WildcardLibrary,
    load_pack,
)
from stablenew_tui.prompts.classic.presets import load_preset
from stablenew_tui.prompts.classic.randomization import Randomization
from stablenew_tui.prompts.classic.rewrite import inline_wildcards, randomize
from stablenew_tui.prompts.classic.settings_file import read_settings_file
from tests.conftest import TEST_DATA
from tests.prompts.conftest import write_files

CLASSIC = TEST_DATA / "stablenew"
PERSONS = ("man", "woman", "child", "elder")
POSES = ("standing", "sitting", "walking", "running")
MOODS = ("happy", "sad", "angry", "contemplative", "serene")
WEATHERS = ("sunny", "cloudy", "rainy", "foggy", "stormy")
LIGHTS = ("golden hour", "blue hour", "midday sun", "moonlight", "dramatic lighting")


def _randomization(tmp_path: Path, block: dict) -> Randomization:
    path = tmp_path / "preset.json"
    path.write_text(json.dumps({"randomization": {"enabled": True, **block}}, indent=2))
    return read_settings_file(path, InputError).randomization


def _draw(text: str, randomization: Randomization, count: int = 1, first_seed: int = 7,
          locks: SegmentLocks | None = None, first_number: int = 0) -> list[str]:  # fmt: skip
    prompt = randomize(text, randomization)
    mode = SamplingMode.COMBINATORIAL if prompt.fan_out else SamplingMode.RANDOM
    library = WildcardLibrary().with_inline(inline_wildcards(randomization))
    sampler = PromptSampler(Template.parse(prompt.text), library, mode=mode, locks=locks)
    count = (prompt.limit or 1000) if prompt.fan_out else count
    seeds = range(first_seed, first_seed + count)
    return [resolved.text for resolved in sampler.prompts(seeds, first_number)]


def test_the_randomization_example_gives_the_prompts_its_readme_describes():
    """Up to 8 variations of the first prompt (the matrix limit), time × location in order
    (dawn/forest, dawn/beach, …, noon/city), each with a random person, pose, mood, weather
    and lighting; the second prompt has no slot and gives one."""
    pack = load_pack("randomization_test", [CLASSIC / "packs"])
    preset = load_preset("randomization_example", [CLASSIC / "presets"])
    randomization = pack.randomization.over(preset.randomization)
    first, second = pack.prompts
    drawn = _draw(first.prompt, randomization)
    pattern = re.compile(
        rf"A ({'|'.join(PERSONS)}) in a ({'|'.join(POSES)}), ({'|'.join(MOODS)}) expression, "
        rf"({'|'.join(WEATHERS)}) day, ({'|'.join(LIGHTS)}), at (\w+) in a (\w+), "
        "film photo, sharp focus"
    )
    matches = [pattern.fullmatch(text) for text in drawn]
    assert all(matches), drawn
    places = [match.group(6, 7) for match in matches if match]
    assert places == list(itertools.product(("dawn", "noon"), ("forest", "beach", "mountain",
                                                                "city")))  # fmt: skip
    persons = {match.group(1) for match in matches if match}
    assert len(persons) > 1, "each variation draws its own person"
    (harbour,) = _draw(second.prompt, randomization)
    assert re.fullmatch(
        rf"A quiet harbour with a ({'|'.join(PERSONS)}) on the pier, ({'|'.join(MOODS)}) "
        rf"faces, ({'|'.join(LIGHTS)}), 35mm", harbour
    )  # fmt: skip


def test_each_rule_token_and_slot_is_a_segment_that_locks_and_pins(tmp_path):
    randomization = _randomization(tmp_path, {
        "prompt_sr": {"enabled": True, "raw_text": "person => man | woman"},
        "wildcards": {"enabled": True, "raw_text": "mood: calm | wild"},
        "matrix": {"enabled": True, "mode": "rotate", "slots": ["time: dawn | dusk"]},
    })  # fmt: skip
    prompt = randomize("a __mood__ person at [[time]]", randomization)
    assert prompt.text == "a __~mood__ {~man|woman} at {@dawn|dusk}"
    locks = SegmentLocks().lock(1, "fierce").pin(2, 1)
    drawn = _draw("a __mood__ person at [[time]]", randomization, count=2, locks=locks)
    assert drawn == ["a fierce woman at dawn", "a fierce woman at dusk"]


def test_round_robin_and_sequential_take_value_n_for_prompt_n(tmp_path):
    randomization = _randomization(tmp_path, {
        "prompt_sr": {"enabled": True, "mode": "round_robin", "rules": [
            {"search": "hat", "replacements": ["cap", "hood", "crown"]}]},
        "wildcards": {"enabled": True, "mode": "sequential", "tokens": [
            {"token": "__tone__", "values": ["warm", "cold"]}]},
    })  # fmt: skip
    drawn = _draw("a hat, __tone__", randomization, count=4)
    assert drawn == ["a cap, warm", "a hood, cold", "a crown, warm", "a cap, cold"]
    later = _draw("a hat, __tone__", randomization, count=1, first_number=1)
    assert later == ["a hood, cold"], "numbering goes on across a pack's prompts"


def test_rotate_takes_one_combination_per_prompt_in_order_up_to_the_limit(tmp_path):
    randomization = _randomization(tmp_path, {"matrix": {
        "enabled": True, "mode": "rotate", "limit": 3,
        "slots": [{"name": "a", "values": ["1", "2"]}, {"name": "b", "values": ["x", "y"]}],
    }})  # fmt: skip
    assert _draw("[[a]][[b]]", randomization, count=4) == ["1x", "1y", "2x", "1x"]


def test_fanout_without_a_limit_makes_every_combination_first_slot_slowest(tmp_path):
    randomization = _randomization(tmp_path, {"matrix": {
        "enabled": True, "slots": ["b: x | y", "a: 1 | 2 | 3"]}})  # fmt: skip
    prompt = randomize("[[a]] and [[b]], again [[b]]", randomization)
    assert prompt.fan_out and prompt.limit == 0
    drawn = PromptSampler(Template.parse(prompt.text), mode=SamplingMode.COMBINATORIAL)
    texts = [resolved.text for resolved in drawn.prompts(range(100))]
    assert texts == [f"{a} and {b}, again {b}" for b in "xy" for a in "123"]
    assert not randomize("no slot here", randomization).fan_out


def test_a_random_rule_or_token_used_twice_shows_one_value(tmp_path):
    randomization = _randomization(tmp_path, {
        "prompt_sr": {"enabled": True, "rules": ["cat => lion | lynx | puma"]},
        "wildcards": {"enabled": True, "tokens": ["hue: red | green | blue"]},
    })  # fmt: skip
    for text in _draw("cat and cat, __hue__ and __hue__", randomization, count=20):
        first, second = text.split(", ")
        assert len(set(first.split(" and "))) == 1 and len(set(second.split(" and "))) == 1


def test_rules_apply_in_order_later_ones_to_earlier_values_too(tmp_path):
    randomization = _randomization(tmp_path, {"prompt_sr": {"enabled": True, "rules": [
        "animal => big cat", "cat => lion | tiger"]}})  # fmt: skip
    assert set(_draw("an animal", randomization, count=30)) == {"an big lion", "an big tiger"}


@pytest.mark.parametrize(
    ("prompt_mode", "expected"),
    [("replace", "at dawn"), ("append", "pack, at dawn"), ("prepend", "at dawn, pack")],
)
def test_a_base_prompt_replaces_or_joins_each_prompt(tmp_path, prompt_mode, expected):
    randomization = _randomization(tmp_path, {"matrix": {
        "enabled": True, "base_prompt": "at [[t]]", "prompt_mode": prompt_mode,
        "slots": ["t: dawn"]}})  # fmt: skip
    assert _draw("pack", randomization) == [expected]


def test_off_kinds_and_files_ask_for_nothing(tmp_path):
    path = tmp_path / "preset.json"
    block = {"enabled": False, "prompt_sr": {"enabled": True, "rules": ["a => b"]}}
    path.write_text(json.dumps({"randomization": block}))
    assert not read_settings_file(path, InputError).randomization
    off_kind = _randomization(tmp_path, {"prompt_sr": {"rules": ["a => b"]}})
    assert not off_kind, "a classic file's kind is off unless it says enabled"


def test_the_pack_s_kinds_win_over_the_preset_s_kind_by_kind(tmp_path):
    preset = _randomization(tmp_path, {
        "prompt_sr": {"enabled": True, "rules": ["a => preset"]},
        "wildcards": {"enabled": True, "tokens": ["w: preset"]},
    })  # fmt: skip
    pack = _randomization(tmp_path, {"prompt_sr": {"enabled": True, "rules": ["a => pack"]}})
    assert _draw("a __w__", pack.over(preset)) == ["pack preset"]


def test_our_own_packs_carry_randomization_keys(tmp_path):
    text = (
        'prompts = ["a person at [[time]] __mood__"]\n'
        '[randomization.prompt_sr]\nrules = ["person => knight"]\n'
        '[randomization.wildcards]\nmode = "sequential"\ntokens = ["mood: bold"]\n'
        '[randomization.matrix]\nenabled = false\nslots = ["time: dawn"]\n'
    )
    pack = load_pack(write_files(tmp_path, {"p.toml": text}) / "p.toml")
    assert _draw(pack.prompts[0].prompt, pack.randomization) == ["a knight at [[time]] bold"]


def test_lines_without_their_separator_are_skipped_with_a_warning(tmp_path):
    randomization = _randomization(tmp_path, {"prompt_sr": {
        "enabled": True, "raw_text": "# comment\nperson -> man\nhat => cap"}})  # fmt: skip
    assert [rule.key for rule in randomization.replacements.entries] == ["hat"]
    (warning,) = randomization.warnings
    assert warning.endswith("randomization.prompt_sr: skipped 'person -> man': expected "
                            "'key => a | b'")  # fmt: skip


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"prompt_sr": {"enabled": True, "mode": "shuffle", "rules": ["a => b"]}},
         "randomization.prompt_sr.mode: 'shuffle': expected random or round_robin"),
        ({"matrix": {"enabled": True, "limit": -1, "slots": ["a: b"]}},
         "randomization.matrix.limit: -1: expected a whole number, 0 or more"),
        ({"wildcards": {"enabled": True, "tokens": [{"token": "__x__", "values": "a"}]}},
         "randomization.wildcards.tokens: expected lines 'key : a | b' or objects"),
        ({"matrix": {"enabled": True, "slots": [{"name": "a", "values": ["{b|c}"]}]}},
         "value '{b|c}' of 'a' holds '{', '}' or '|'"),
        ({"prompt_sr": "on"}, "randomization.prompt_sr: expected an object"),
    ],
)  # fmt: skip
def test_wrong_randomization_values_are_errors_at_their_line(tmp_path, block, message):
    with pytest.raises(InputError) as caught:
        _randomization(tmp_path, block)
    assert message in caught.value.message and caught.value.line is not None
