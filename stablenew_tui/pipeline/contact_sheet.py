"""The contact sheet of a comparison: its images in a labelled grid, as A1111's X/Y/Z plot
draws one (`scripts/xyz_grid.py`, `modules/images.py` `draw_grid_annotations`).

The first axis is the columns, the second the rows; a third makes one sheet per value, that
value written above the grid. Each column is headed by its value and each row labelled on
the left, as `axis: value`. Every tile is the same box, the largest image's size scaled so its
longer side is at most `MAX_TILE` pixels; a smaller image sits centred in it. A cell without
an image (it failed, or the run stopped first) is a grey tile crossed in red, so the sheet
always shows the whole grid. Sheets are PNG files written atomically into the run folder.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from stablenew_tui.atomic import write_bytes_atomic
from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.compare_grid import GRID_SOURCE, ComparisonGrid
from stablenew_tui.pipeline.jobs import Job, Run, slugify
from stablenew_tui.pipeline.outputs import read_manifest
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.pipeline.settings import STAGE_ORDER

MAX_TILE = 384
PADDING = 8
BACKGROUND = (255, 255, 255)
INK = (0, 0, 0)
MISSING_FILL = (200, 200, 200)
MISSING_MARK = (220, 0, 0)
SHEET_NAME = "comparison"

CellKey = tuple[str, ...]  # the cell's values, in axis order


def cell_key(grid: ComparisonGrid, cell: Mapping[str, str]) -> CellKey:
    return tuple(cell[axis.name] for axis in grid.axes)


def comparison_run(queue: JobQueue, ref: str | None) -> Run:
    """The comparison `ref` names (a run id or folder), or the newest when it is None."""
    if ref is not None:
        run = queue.find_run(ref)
        if run is None:
            raise InputError(f"no run {ref!r} in {queue.path} (`stablenew runs` lists them)")
        ComparisonGrid.from_run(run)  # or the error saying it is not a comparison
        return run
    comparisons = [run for run in queue.runs() if run.source.get(GRID_SOURCE)]
    if not comparisons:
        raise InputError("no comparison in the queue: `stablenew compare` makes one")
    return comparisons[-1]  # oldest first


def final_images(run: Run, jobs: Sequence[Job]) -> dict[CellKey, Path]:
    """The last stage's image of each finished cell of a comparison run."""
    grid = ComparisonGrid.from_run(run)
    folder = Path(run.folder)
    done = {job.id: job for job in jobs if job.status == "done" and job.spec.cell}
    latest: dict[str, tuple[int, str]] = {}
    for entry in read_manifest(folder):
        job_id, stage = entry.get("job_id"), entry.get("stage")
        if job_id in done and stage in STAGE_ORDER:
            rank = STAGE_ORDER.index(stage)
            if rank >= latest.get(job_id, (-1, ""))[0]:
                latest[job_id] = (rank, str(entry["path"]))
    return {
        cell_key(grid, done[job_id].spec.cell or {}): folder / path
        for job_id, (_, path) in latest.items()
    }


def run_sheets(run: Run, jobs: Sequence[Job]) -> list[Path]:
    """Draw a comparison run's sheets into its folder from the images its jobs made so far."""
    return write_contact_sheets(
        Path(run.folder), ComparisonGrid.from_run(run), final_images(run, jobs)
    )


def write_contact_sheets(
    folder: Path, grid: ComparisonGrid, images: Mapping[CellKey, Path]
) -> list[Path]:
    """One sheet, or one per value of the third axis; the paths written."""
    opened = {key: _open(path) for key, path in images.items()}
    tile = _tile_size([image for image in opened.values() if image is not None])
    font = ImageFont.load_default(size=max(14, tile[0] // 18))
    pages = grid.axes[2].values if len(grid.axes) > 2 else (None,)
    written = []
    for number, page in enumerate(pages, start=1):
        sheet = _draw_sheet(grid, opened, tile, font, page)
        name = SHEET_NAME if page is None else f"{SHEET_NAME}_{number}_{slugify(page, 32)}"
        path = folder / f"{name}.png"
        buffer = io.BytesIO()
        sheet.save(buffer, format="PNG")
        write_bytes_atomic(path, buffer.getvalue())
        written.append(path)
    return written


def _open(path: Path) -> Image.Image | None:
    """The image, or None when it cannot be read: the cell then shows as missing."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, ValueError):
        return None


def _tile_size(images: list[Image.Image]) -> tuple[int, int]:
    if not images:
        return (MAX_TILE // 2, MAX_TILE // 2)
    width = max(image.width for image in images)
    height = max(image.height for image in images)
    scale = min(1.0, MAX_TILE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def sheet_layout(
    grid: ComparisonGrid, tile: tuple[int, int], line_height: int
) -> tuple[int, int, int, int]:
    """(left band width, top band height, sheet width, sheet height) for `tile`-sized cells.
    The left band holds the row labels; the top band the third axis's value and the column
    labels."""
    columns = len(grid.axes[0].values)
    rows = len(grid.axes[1].values) if len(grid.axes) > 1 else 1
    band = line_height + 2 * PADDING
    left = tile[0] // 2 + 2 * PADDING if len(grid.axes) > 1 else 0
    top = band * (2 if len(grid.axes) > 2 else 1)
    return left, top, left + columns * tile[0], top + rows * tile[1]


def _draw_sheet(
    grid: ComparisonGrid,
    opened: Mapping[CellKey, Image.Image | None],
    tile: tuple[int, int],
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    page: str | None,
) -> Image.Image:
    line_height = _line_height(font)
    left, top, width, height = sheet_layout(grid, tile, line_height)
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    columns = grid.axes[0]
    rows = grid.axes[1].values if len(grid.axes) > 1 else (None,)
    if page is not None:
        _label(draw, font, f"{grid.axes[2].name}: {page}", (0, 0, width, top // 2))
    header = top - (line_height + 2 * PADDING)
    for column, value in enumerate(columns.values):
        x = left + column * tile[0]
        _label(draw, font, f"{columns.name}: {value}", (x, header, x + tile[0], top))
    for row, row_value in enumerate(rows):
        y = top + row * tile[1]
        if row_value is not None:
            _label(draw, font, f"{grid.axes[1].name}: {row_value}", (0, y, left, y + tile[1]))
        for column, value in enumerate(columns.values):
            key = tuple(part for part in (value, row_value, page) if part is not None)
            box = (left + column * tile[0], y, left + (column + 1) * tile[0], y + tile[1])
            _tile(sheet, draw, font, opened.get(key), box)
    return sheet


def _tile(
    sheet: Image.Image,
    draw: ImageDraw.ImageDraw,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    image: Image.Image | None,
    box: tuple[int, int, int, int],
) -> None:
    x0, y0, x1, y1 = box
    if image is None:
        draw.rectangle((x0 + 1, y0 + 1, x1 - 2, y1 - 2), fill=MISSING_FILL)
        draw.line((x0 + 1, y0 + 1, x1 - 2, y1 - 2), fill=MISSING_MARK, width=3)
        draw.line((x0 + 1, y1 - 2, x1 - 2, y0 + 1), fill=MISSING_MARK, width=3)
        _label(draw, font, "no image", box)
        return
    fitted = image.copy()
    fitted.thumbnail((x1 - x0, y1 - y0))
    sheet.paste(fitted, (x0 + (x1 - x0 - fitted.width) // 2, y0 + (y1 - y0 - fitted.height) // 2))


def _line_height(font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> int:
    bbox = font.getbbox("Ag")
    return int(bbox[3] - bbox[1])


def _label(
    draw: ImageDraw.ImageDraw,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    text: str,
    box: tuple[int, int, int, int],
) -> None:
    """`text` centred in `box`, shortened with … to fit its width."""
    x0, y0, x1, y1 = box
    room = max(1, x1 - x0 - 2 * PADDING)
    shown = text
    while shown and draw.textlength(shown, font=font) > room:
        shown = shown[:-2] + "…" if len(shown) > 1 else ""
    draw.text(((x0 + x1) / 2, (y0 + y1) / 2), shown, fill=INK, font=font, anchor="mm")
