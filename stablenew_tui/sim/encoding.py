"""Pictures on the wire: encoded in the format the `samples_format` option names, infotext inside.

Modelled on the servers' own encoders, which every image an answer carries goes through
(txt2img, img2img, extras and the `/progress` preview):

- A1111 and Forge `modules/api/api.py` `encode_pil_to_base64`: `png` writes every text item of
  the picture's info as a PNG text chunk; `jpg`, `jpeg` and `webp` drop an alpha channel and put
  the `parameters` item (or "") in the EXIF UserComment, written by piexif in its "unicode"
  encoding, at `jpeg_quality`; any other format is HTTPException 500 "Invalid image format".
- SD.Next `modules/api/helpers.py` `save_image`: the same, except that WebP also honours
  `webp_lossless`.

Reading back (extras sources, `/png-info`) follows A1111 `modules/images.py`
`read_info_from_image`: the `parameters` text item, replaced by a non-empty EXIF UserComment.

piexif, as on the servers, because Pillow alone writes UserComment as BYTE rather than
UNDEFINED, which piexif (and so every WebUI's PNG Info) cannot decode.

The simulator reads and writes this on its own, without the client's reader, so a mistake on
one side cannot hide a mistake on the other.
"""

from __future__ import annotations

import base64
import io
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import piexif
import piexif.helper
from PIL import Image, PngImagePlugin

from stablenew_tui.sim.errors import SimHTTPError
from stablenew_tui.sim.flavors import Flavor

# PNGs are written with a fast compression level: benchmarks push thousands through.
PNG_COMPRESS_LEVEL = 1
_PILLOW_FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP"}
# What read_info_from_image leaves out of `items` (A1111 `modules/images.py` IGNORED_INFO_KEYS).
_IGNORED_INFO_KEYS = frozenset(
    (
        "jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "exif", "loop",
        "background", "timestamp", "duration", "progressive", "progression", "icc_profile",
        "chromaticity", "photoshop",
    )
)  # fmt: skip


@dataclass(frozen=True)
class AnswerFormat:
    """How the server encodes the images of an answer, from its options at that moment."""

    samples_format: str
    quality: int
    webp_lossless: bool

    @classmethod
    def from_options(cls, options: Mapping[str, Any], flavor: Flavor) -> AnswerFormat:
        return cls(
            samples_format=str(options.get("samples_format") or "png").lower(),
            quality=int(options.get("jpeg_quality") or 80),
            # Only SD.Next's encoder passes the option on to Pillow.
            webp_lossless=flavor.name == "sdnext" and bool(options.get("webp_lossless")),
        )


def encode_picture(image: Image.Image, info: Mapping[str, str], answer: AnswerFormat) -> str:
    """Base64 (no data: prefix) of `image` in the answer's format, with `info` as the server
    would embed it."""
    pillow_format = _PILLOW_FORMATS.get(answer.samples_format)
    if pillow_format is None:
        raise SimHTTPError(500, "Invalid image format")
    buffer = io.BytesIO()
    if pillow_format == "PNG":
        text = PngImagePlugin.PngInfo()
        for key, value in info.items():
            text.add_text(key, value)
        image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL, pnginfo=text)
    else:
        if image.mode == "RGBA":
            image = image.convert("RGB")
        comment = piexif.helper.UserComment.dump(info.get("parameters") or "", encoding="unicode")
        exif = piexif.dump({"Exif": {piexif.ExifIFD.UserComment: comment}})
        extra = {"lossless": True} if pillow_format == "WEBP" and answer.webp_lossless else {}
        image.save(buffer, format=pillow_format, exif=exif, quality=answer.quality, **extra)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def read_info(image: Image.Image) -> tuple[str | None, dict[str, str]]:
    """The infotext a decoded image carries (None if none) and its other text items."""
    items = {
        key: value
        for key, value in image.info.items()
        if isinstance(key, str) and isinstance(value, str) and key not in _IGNORED_INFO_KEYS
    }
    infotext = items.pop("parameters", None)
    exif = image.info.get("exif")
    if isinstance(exif, bytes):
        try:
            comment = piexif.load(exif).get("Exif", {}).get(piexif.ExifIFD.UserComment, b"")
        except (ValueError, OSError, struct.error):
            comment = b""  # unreadable EXIF counts as none, as the servers' readers do
        if isinstance(comment, bytes) and comment:
            try:
                text = piexif.helper.UserComment.load(comment)
            except ValueError:
                text = comment.decode("utf8", errors="ignore")
            infotext = text or infotext
    return infotext, items
