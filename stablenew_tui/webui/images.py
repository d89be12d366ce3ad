"""Images as a WebUI sends them: base64 of a PNG, JPEG or WebP file.

The server encodes every image it answers with in the format its "File format for images"
option (`samples_format`) names, png by default on A1111 and Forge, jpg on SD.Next. The
generation parameters (the infotext) travel inside: a PNG `parameters` text chunk, or for JPEG
and WebP the EXIF UserComment (A1111 `modules/api/api.py` `encode_pil_to_base64`, SD.Next
`modules/api/helpers.py` `save_image`). The bytes are kept exactly as sent; the format is told
by their signature, never by what the options claim.
"""

from __future__ import annotations

import base64
import binascii
import io
import struct
from dataclasses import dataclass, field
from enum import StrEnum

import piexif
import piexif.helper
from PIL import Image, UnidentifiedImageError

from stablenew_tui.webui.errors import WebUIBadAnswer


class ImageFormat(StrEnum):
    PNG = "png"
    JPEG = "jpeg"
    WEBP = "webp"

    @property
    def extension(self) -> str:
        return ".jpg" if self is ImageFormat.JPEG else f".{self.value}"


def sniff_format(data: bytes) -> ImageFormat | None:
    """The format the bytes' signature names; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageFormat.WEBP
    return None


def base64_bytes(encoded: str) -> bytes:
    """The bytes of a base64 image, with or without a `data:` URL prefix; ValueError if none."""
    if encoded.startswith("data:"):
        encoded = encoded.split(",", 1)[-1]
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None


@dataclass(frozen=True)
class ReceivedImage:
    data: bytes = field(repr=False)
    format: ImageFormat
    infotext: str | None  # what the image itself carries; None if it carries nothing

    @property
    def extension(self) -> str:
        return self.format.extension


def decode_received_image(encoded: str, node: str, what: str) -> ReceivedImage:
    """An answer's image, checked to be a PNG, JPEG or WebP that Pillow can open.

    Raises WebUIBadAnswer naming `what` (the call or stage) when it is not.
    """
    try:
        data = base64_bytes(encoded)
    except ValueError:
        raise WebUIBadAnswer(node, f"{what} sent an image that is not valid base64") from None
    image_format = sniff_format(data)
    if image_format is None:
        start = data[:8].hex(" ") or "nothing"
        raise WebUIBadAnswer(
            node, f"{what} sent an image that is not a PNG, JPEG or WebP (its bytes begin {start})"
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            infotext = embedded_infotext(image)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as error:
        # Pillow reports some broken PNG chunks as SyntaxError.
        raise WebUIBadAnswer(
            node, f"{what} sent a damaged {image_format.name} image ({error})"
        ) from None
    return ReceivedImage(data, image_format, infotext)


def embedded_infotext(image: Image.Image) -> str | None:
    """The `parameters` text chunk of a PNG, or the EXIF UserComment of a JPEG or WebP, read
    as the WebUIs' own PNG Info reads it (A1111 `modules/images.py` read_info_from_image)."""
    exif = image.info.get("exif")
    if isinstance(exif, bytes):
        try:
            comment = piexif.load(exif).get("Exif", {}).get(piexif.ExifIFD.UserComment)
            text = piexif.helper.UserComment.load(comment) if comment else ""
        except (ValueError, TypeError, OSError, struct.error):
            text = ""  # EXIF without a readable comment: the infotext is not there
        if text:
            return text
    parameters = image.info.get("parameters")
    return parameters if isinstance(parameters, str) and parameters else None
