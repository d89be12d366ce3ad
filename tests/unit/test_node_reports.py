"""How nodes and their models are named in tables too narrow for a checkpoint's full title."""

from __future__ import annotations

import pytest

from stablenew_tui.pipeline.speed_model import SpeedBook
from stablenew_tui.services.nodes import short_model, speed_text, steps_per_second


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
    assert speed_text(3.84) == "3.8 it/s"


def test_speed_is_steps_per_second_at_512_square(tmp_path):
    book = SpeedBook(tmp_path / "speeds.json")
    assert steps_per_second(book, "gpu1") is None
    for _ in range(4):  # 20 steps at 512×512 in 2 s
        book.observe("gpu1", 512 * 512 / 1e6 * 20, 2.0)
    assert steps_per_second(book, "gpu1") == pytest.approx(10.0)
