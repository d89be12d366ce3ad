"""How nodes and their models are named in tables too narrow for a checkpoint's full title."""

from __future__ import annotations

import pytest

from stablenew_tui.pipeline.events import NodeStatus
from stablenew_tui.pipeline.node_tally import NodeTally
from stablenew_tui.pipeline.speed_model import SpeedBook
from stablenew_tui.services.nodes import (
    board_rows,
    cut_name,
    short_model,
    speed_text,
    steps_per_second,
)


@pytest.mark.parametrize(
    ("title", "short"),
    [
        ("SDXL/juggernautXL_v9.safetensors [c9e3e68f89]", "juggernautXL_v9"),
        ("SDXL\\juggernautXL_v9.ckpt", "juggernautXL_v9"),  # a WebUI on Windows
        ("sd_xl_base_1.0", "sd_xl_base_1.0"),  # SD.Next: no file suffix to take off
        ("v1-5-pruned-emaonly.safetensors", "v1-5-pruned-emaonly"),
        ("", ""),
    ],
)
def test_short_model_keeps_the_part_a_person_recognises(title, short):
    assert short_model(title) == short


def test_a_speed_not_measured_yet_is_a_dash():
    assert speed_text(None) == "—"
    assert speed_text(3.84) == "3.8"


def test_speed_is_steps_per_second_at_512_square(tmp_path):
    book = SpeedBook(tmp_path / "speeds.json")
    assert steps_per_second(book, "gpu1") is None
    for _ in range(4):  # 20 steps at 512×512 in 2 s
        book.observe("gpu1", 512 * 512 / 1e6 * 20, 2.0)
    assert steps_per_second(book, "gpu1") == pytest.approx(10.0)


def test_board_rows_say_draining_until_the_image_ends_and_why_a_node_is_away(tmp_path):
    statuses = {
        "gpu1": NodeStatus("gpu1", "BUSY", server="Forge f2", model="SDXL/juggernaut.safetensors"),
        "gpu2": NodeStatus("gpu2", "READY", model="sd_xl_base_1.0"),
        "gpu3": NodeStatus("gpu3", "DISCONNECTED", "cannot connect", model="stale"),
    }
    activity = {"gpu1": "#3 txt2img 5/20"}
    tallies = {"gpu1": NodeTally(done=7, failed=1)}
    book = SpeedBook(tmp_path / "speeds.json")

    rows = board_rows(statuses, activity, {"gpu1", "gpu2"}, book, tallies)

    assert [(row.name, row.state, row.doing, row.model) for row in rows] == [
        ("gpu1", "DRAINING", "#3 txt2img 5/20", "juggernaut"),
        ("gpu2", "DRAINED", "", "sd_xl_base_1.0"),
        ("gpu3", "DISCONNECTED", "cannot connect", ""),
    ]
    assert rows[0].tally == NodeTally(7, 1) and rows[1].tally == NodeTally()


def test_board_rows_say_out_for_a_node_the_breaker_took_out_unless_it_is_drained(tmp_path):
    statuses = {
        "gpu1": NodeStatus("gpu1", "READY", model="sd_xl_base_1.0"),  # its monitor's word
        "gpu2": NodeStatus("gpu2", "DISCONNECTED", "out of the run after 3 failed jobs"),
        "gpu3": NodeStatus("gpu3", "READY"),
    }
    book = SpeedBook(tmp_path / "speeds.json")

    rows = board_rows(statuses, {}, {"gpu3"}, book, {}, {"gpu1", "gpu2", "gpu3"})

    assert [(row.name, row.state, row.doing) for row in rows] == [
        ("gpu1", "OUT", "resting after failed jobs in a row"),
        ("gpu2", "OUT", "resting after failed jobs in a row"),
        ("gpu3", "DRAINED", ""),
    ]


def test_node_names_cut_in_the_middle_keep_their_ports_apart():
    names = ["127.0.0.1:7871", "127.0.0.1:7872"]
    cut = [cut_name(name, 12) for name in names]
    assert cut == ["127.0…1:7871", "127.0…1:7872"]
    assert cut_name("gpu1", 12) == "gpu1"
    assert [len(cut_name("a-long-node-name:7860", width)) for width in (1, 2, 5)] == [1, 2, 5]
