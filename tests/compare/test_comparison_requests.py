"""What the TUI's grid dialog asks for, checked as the CLI checks it: the axes, the seed, the
stage cards' changes a grid takes, and completing a value from the node's names."""

from __future__ import annotations

import pytest

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.compare_grid import Axis
from stablenew_tui.pipeline.jobs import MAX_SEED
from stablenew_tui.services.comparisons import (
    axis_choices,
    comparison_flags,
    complete_listed,
    parse_axes,
    parse_seed,
)
from stablenew_tui.webui.resources import ResourceCatalog

SAMPLERS = ["Euler a", "Euler", "DDIM", "DPM++ 2M"]


def test_the_last_value_is_completed_from_the_names_not_yet_listed():
    assert complete_listed("eu", SAMPLERS) == "Euler a"
    assert complete_listed("Euler a, eu", SAMPLERS) == "Euler a, Euler"
    assert complete_listed("Euler a,  d", SAMPLERS) == "Euler a,  DDIM"
    assert complete_listed("Euler a, ", SAMPLERS) is None  # nothing typed yet
    assert complete_listed("Euler a, Euler, eu", SAMPLERS) is None  # both listed already
    assert complete_listed("x", SAMPLERS) is None


def test_axes_are_parsed_as_the_cli_parses_them_in_the_dialogs_words():
    grid = parse_axes([("cfg", "5, 7"), ("", "ignored"), ("sampler", "Euler a,DDIM")])
    assert grid.axes == (Axis("cfg", ("5", "7")), Axis("sampler", ("Euler a", "DDIM")))
    with pytest.raises(InputError, match=r"^axis cfg=abc: expected a number$"):
        parse_axes([("cfg", "abc")])
    with pytest.raises(InputError, match=r"^axis 'steps=': expected steps=VALUE"):
        parse_axes([("steps", "")])
    with pytest.raises(InputError, match="choose an axis"):
        parse_axes([("", "5, 7")])


def test_the_seed_is_a_number_in_range_or_empty_for_random():
    assert parse_seed(" 42 ") == 42
    assert parse_seed("") is None
    assert parse_seed("-1") is None
    for wrong in ("x", str(MAX_SEED + 1), "-5"):
        with pytest.raises(InputError, match=f"seed: a whole number 0 to {MAX_SEED}"):
            parse_seed(wrong)


def test_a_grid_takes_the_cards_changes_with_one_image_per_cell_and_its_seed():
    cards = {"images_per_prompt": 4, "txt2img": {"steps": 9, "seed": 3}}
    assert comparison_flags(cards, 42) == {
        "images_per_prompt": 1, "txt2img": {"steps": 9, "seed": 42}
    }  # fmt: skip
    assert comparison_flags({}, None) == {"images_per_prompt": 1, "txt2img": {"seed": -1}}
    assert cards["txt2img"]["seed"] == 3, "the cards' own table is left as it was"


def test_the_node_names_offered_per_axis():
    catalog = ResourceCatalog(models=["a.safetensors"], samplers=SAMPLERS, schedulers=["Karras"])
    assert axis_choices(catalog) == {
        "model": ["a.safetensors"], "sampler": SAMPLERS, "scheduler": ["Karras"]
    }  # fmt: skip
    old = catalog.model_copy(update={"schedulers_supported": False})
    assert "scheduler" not in axis_choices(old)
    assert axis_choices(None) == {}
