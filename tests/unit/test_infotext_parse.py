"""Splitting an infotext into prompt, negative prompt and parameters, as PNG Info does (A1111
`modules/infotext_utils.py`, `parse_generation_parameters`)."""

from __future__ import annotations

from stablenew_tui.webui.infotext import parse_infotext

PARAMETERS = "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512"


def test_prompt_negative_and_parameters():
    parsed = parse_infotext(f"a red fox\nNegative prompt: blurry, lowres\n{PARAMETERS}")
    assert (parsed.prompt, parsed.negative) == ("a red fox", "blurry, lowres")
    assert parsed.parameters["Seed"] == "965400086" and parsed.parameters["Size"] == "512x512"


def test_prompts_over_several_lines_keep_them():
    parsed = parse_infotext(f"a red fox\nin snow\nNegative prompt: blurry\nlowres\n{PARAMETERS}")
    assert (parsed.prompt, parsed.negative) == ("a red fox\nin snow", "blurry\nlowres")


def test_no_negative_prompt():
    parsed = parse_infotext(f"a red fox\n{PARAMETERS}")
    assert (parsed.prompt, parsed.negative) == ("a red fox", "")


def test_a_last_line_with_too_few_parameters_is_part_of_the_prompt():
    parsed = parse_infotext("a red fox\nStyle: ink, mood: calm")
    assert parsed.prompt == "a red fox\nStyle: ink, mood: calm"
    assert parsed.parameters == {}


def test_an_empty_negative_prompt_line_still_ends_the_prompt():
    parsed = parse_infotext(f"a red fox\nNegative prompt:\n{PARAMETERS}")
    assert (parsed.prompt, parsed.negative) == ("a red fox", "")
