"""Make the frames uniform before ffmpeg sees them, and write the concat list that feeds them.

ffmpeg's concat demuxer wants every file alike: a change of codec (PNG then JPEG), of size or of
pixel format mid-stream breaks decoding or resets the filter graph, which drops frames and cuts
crossfades short. So every frame is checked with Pillow; frames that are already 8-bit RGB PNGs
of the output size are used as they are (the usual WebUI output), the rest are letterboxed onto
a black canvas of that size and saved as such PNGs in the work folder.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, ImageFile, UnidentifiedImageError

from stablenew_tui.errors import InputError
from stablenew_tui.video.settings import VideoSettings

Size = tuple[int, int]


class EncodeCancelled(Exception):
    """Raised inside the preparing thread when the encode it works for was cancelled."""


def image_size(path: Path) -> Size:
    """Width and height from the image header."""
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise InputError(f"cannot read image: {error}", source=str(path)) from None


def output_size(settings: VideoSettings, first_image: Path) -> Size:
    """`settings.size` or the first image's size, made even where the codec needs it."""
    width, height = settings.size or image_size(first_image)
    if settings.format.needs_even_size:
        # Rounding down rescales by a pixel; rounding up would add a visible one-pixel bar.
        width, height = max(2, width - width % 2), max(2, height - height % 2)
    return width, height


def prepare_frames(
    frames: Sequence[Path], size: Size, work_dir: Path, stop: threading.Event
) -> list[Path]:
    """The frames as uniform PNGs of `size`: originals where they already are, else copies in
    `work_dir`. Blocking; run it in a thread. Returns only once no file is being written."""
    workers = min(len(frames), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="video-frames") as pool:
        jobs = [
            pool.submit(_uniform_frame, frame, size, work_dir / f"frame-{index:06d}.png", stop)
            for index, frame in enumerate(frames)
        ]
        try:
            return [job.result() for job in jobs]
        except BaseException:
            stop.set()  # one bad frame fails the encode; the others need not be converted
            raise


def _uniform_frame(source: Path, size: Size, target: Path, stop: threading.Event) -> Path:
    if stop.is_set():
        raise EncodeCancelled
    try:
        with Image.open(source) as image:
            if _is_uniform(image, size):
                image.verify()  # checks every chunk, so a truncated file is caught here
                return source
            image.load()
            canvas = _letterboxed(image, size)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as error:
        # Pillow reports a corrupt PNG chunk as SyntaxError.
        raise InputError(f"cannot read image: {error}", source=str(source)) from None
    if stop.is_set():
        raise EncodeCancelled
    # Speed over size: these files live only as long as the encode.
    canvas.save(target, format="PNG", compress_level=1)
    return target


def _is_uniform(image: Image.Image, size: Size) -> bool:
    # The raw mode tells 8-bit RGB ("RGB") from 16-bit ("RGB;16B"), which Pillow also calls RGB.
    tiles = image.tile if isinstance(image, ImageFile.ImageFile) else []
    raw_modes = [tile[3] for tile in tiles]
    return image.format == "PNG" and image.size == size and raw_modes == ["RGB"]


def _letterboxed(image: Image.Image, size: Size) -> Image.Image:
    """The image scaled to fit inside `size`, aspect kept, centred on black."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Transparent pixels show as black, the same as the padding around them.
        backdrop = Image.new("RGBA", image.size, (0, 0, 0, 255))
        image = Image.alpha_composite(backdrop, image.convert("RGBA"))
    image = image.convert("RGB")
    scale = min(size[0] / image.width, size[1] / image.height)
    fitted = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if fitted != image.size:
        image = image.resize(fitted, Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", size, (0, 0, 0))
    canvas.paste(image, ((size[0] - fitted[0]) // 2, (size[1] - fitted[1]) // 2))
    return canvas


def write_concat_list(frames: Sequence[Path], settings: VideoSettings, list_file: Path) -> None:
    """An ffconcat file showing each frame for its time.

    With a crossfade every image but the last is cut short by it; the blend over the next
    `crossfade` seconds (tmix) then starts transition k at k × (seconds_per_image − crossfade),
    which makes the total n × seconds_per_image − (n − 1) × crossfade.
    """
    shown = settings.seconds_per_image - settings.crossfade
    lines = ["ffconcat version 1.0"]
    for index, frame in enumerate(frames):
        duration = settings.seconds_per_image if index == len(frames) - 1 else shown
        lines += [f"file {_quoted(frame)}", f"duration {duration:.6f}"]
    # Older ffmpeg releases drop the last entry's duration unless the file is listed once more;
    # the encode stops at the exact frame count anyway.
    lines.append(f"file {_quoted(frames[-1])}")
    list_file.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _quoted(path: Path) -> str:
    text = str(path.resolve())
    if "\n" in text or "\r" in text:
        raise InputError("a line break in a file name cannot be passed to ffmpeg", source=text)
    # Inside single quotes nothing is special; a quote itself closes, escapes and reopens.
    return "'" + text.replace("'", "'\\''") + "'"
