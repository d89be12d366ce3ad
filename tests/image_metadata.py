"""Reading the infotext out of an image file the way other tools do, independently of the code
under test: Pillow alone (PNG text chunk, EXIF UserComment), and piexif as the WebUIs' own PNG
Info does (A1111 `modules/images.py` read_info_from_image)."""

from __future__ import annotations

import io

import piexif
import piexif.helper
from PIL import ExifTags, Image

UNICODE_PREFIX = b"UNICODE\x00"  # EXIF's character code for UCS-2/UTF-16, as piexif writes it

SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff", "webp": b"RIFF"}
PILLOW_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}


def open_bytes(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def pillow_infotext(data: bytes) -> str | None:
    """The PNG `parameters` chunk, or the EXIF UserComment decoded by hand from Pillow's EXIF."""
    image = open_bytes(data)
    if image.format == "PNG":
        return image.info.get("parameters")
    comment = image.getexif().get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.UserComment)
    if comment is None:
        return None
    assert isinstance(comment, bytes), "UserComment is not of EXIF type UNDEFINED"
    assert comment.startswith(UNICODE_PREFIX), comment[:8]
    return comment[len(UNICODE_PREFIX) :].decode("utf-16-be")


def webui_infotext(data: bytes) -> str | None:
    """What a WebUI's PNG Info reads: the `parameters` chunk, or piexif's UserComment."""
    image = open_bytes(data)
    if "exif" in image.info:
        comment = piexif.load(image.info["exif"])["Exif"][piexif.ExifIFD.UserComment]
        return piexif.helper.UserComment.load(comment)
    return image.info.get("parameters")
