"""The contact sheet, checked by its pixels: where each image lands, that every column, row
and sheet is labelled, and that a missing image is a marked tile."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from stablenew_tui.pipeline.compare_grid import ComparisonGrid
from stablenew_tui.pipeline.contact_sheet import MAX_TILE, write_contact_sheets

TILE = 64
COLOURS = {
    ("5", "Euler a"): (0, 200, 0), ("7", "Euler a"): (0, 0, 200),
    ("5", "DDIM"): (200, 200, 0), ("7", "DDIM"): (0, 200, 200),
    ("5", "Heun"): (200, 0, 200),  # ("7", "Heun") failed: no image
}  # fmt: skip


def solid(folder: Path, name: str, colour, size=(TILE, TILE)) -> Path:
    path = folder / f"{name}.png"
    Image.new("RGB", size, colour).save(path)
    return path


def dark_pixels(sheet: Image.Image, box: tuple[int, int, int, int]) -> int:
    return sum(1 for pixel in sheet.crop(box).getdata() if sum(pixel) < 200)


def test_columns_are_the_first_axis_rows_the_second_each_labelled(tmp_path):
    grid = ComparisonGrid.parse(["cfg=5,7", "sampler=Euler a,DDIM,Heun"])
    images = {key: solid(tmp_path, "-".join(key), colour) for key, colour in COLOURS.items()}
    (path,) = write_contact_sheets(tmp_path, grid, images)
    assert path == tmp_path / "comparison.png"
    sheet = Image.open(path).convert("RGB")
    left = TILE // 2 + 16  # the row label band
    assert sheet.width == left + 2 * TILE
    top = sheet.height - 3 * TILE  # the column label band
    assert 20 <= top <= 60
    for (cfg, sampler), colour in COLOURS.items():
        column, row = ("5", "7").index(cfg), ("Euler a", "DDIM", "Heun").index(sampler)
        centre = (left + column * TILE + TILE // 2, top + row * TILE + TILE // 2)
        assert sheet.getpixel(centre) == colour, (cfg, sampler)
    for column in range(2):  # "cfg: 5", "cfg: 7" above their columns
        assert dark_pixels(sheet, (left + column * TILE, 0, left + (column + 1) * TILE, top)) > 20
    for row in range(3):  # the sampler beside its row
        assert dark_pixels(sheet, (0, top + row * TILE, left, top + (row + 1) * TILE)) > 20
    assert dark_pixels(sheet, (0, 0, left, top)) == 0  # the corner stays empty
    # The failed cell: grey, crossed in red, never another image.
    x0, y0 = left + TILE, top + 2 * TILE
    assert sheet.getpixel((x0 + 5, y0 + TILE // 2)) == (200, 200, 200)
    assert sheet.getpixel((x0 + 10, y0 + 10))[0] > 200 > sheet.getpixel((x0 + 10, y0 + 10))[1]


def test_a_third_axis_makes_one_sheet_per_value_titled_with_it(tmp_path):
    grid = ComparisonGrid.parse(["cfg=5,7", "steps=10", "model=A,B"])
    images = {
        (cfg, "10", model): solid(tmp_path, f"{cfg}{model}", (0, 100 + 50 * n, 0))
        for n, (cfg, model) in enumerate([("5", "A"), ("7", "A"), ("5", "B"), ("7", "B")])
    }
    sheets = write_contact_sheets(tmp_path, grid, images)
    assert [path.name for path in sheets] == ["comparison_1_a.png", "comparison_2_b.png"]
    for number, path in enumerate(sheets):
        sheet = Image.open(path).convert("RGB")
        top = sheet.height - TILE
        assert dark_pixels(sheet, (0, 0, sheet.width, top // 2)) > 20  # "model: A"
        left = sheet.width - 2 * TILE
        assert sheet.getpixel((left + TILE + 5, top + 5)) == (0, 150 + 100 * number, 0)


def test_a_single_axis_is_one_labelled_row_and_large_images_are_scaled(tmp_path):
    grid = ComparisonGrid.parse(["size=1024x512,512x512"])
    images = {
        ("1024x512",): solid(tmp_path, "wide", (250, 0, 0), (1024, 512)),
        ("512x512",): solid(tmp_path, "square", (0, 0, 250), (512, 512)),
    }
    (path,) = write_contact_sheets(tmp_path, grid, images)
    sheet = Image.open(path).convert("RGB")
    # Every tile is the largest width and height (1024 × 512) scaled to MAX_TILE: 384 × 192.
    assert sheet.width == 2 * MAX_TILE  # no row label band
    body = sheet.height - 192
    assert 20 <= body <= 60
    assert sheet.getpixel((10, body + 96)) == (250, 0, 0)
    # The square image sits centred in its wide tile, white on both sides.
    assert sheet.getpixel((MAX_TILE + 10, body + 96)) == (255, 255, 255)
    assert sheet.getpixel((MAX_TILE + MAX_TILE // 2, body + 96)) == (0, 0, 250)


def test_an_unreadable_image_is_a_missing_tile_not_a_crash(tmp_path):
    grid = ComparisonGrid.parse(["cfg=5,7"])
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    images = {("5",): solid(tmp_path, "ok", (0, 0, 250)), ("7",): broken}
    (path,) = write_contact_sheets(tmp_path, grid, images)
    sheet = Image.open(path).convert("RGB")
    assert sheet.getpixel((TILE + 5, sheet.height - TILE // 2)) == (200, 200, 200)
