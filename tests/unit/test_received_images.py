"""Answer images: any of PNG, JPEG and WebP kept as sent, told apart by signature; anything
else one clear error naming the call."""

from __future__ import annotations

import base64
import io

import piexif
import piexif.helper
import pytest
from PIL import Image, PngImagePlugin

from stablenew_tui.webui.errors import WebUIBadAnswer
from stablenew_tui.webui.images import ImageFormat, decode_received_image

INFOTEXT = 'a fox, "quoted", ünïcode\nNegative prompt: fog\nSteps: 2, Seed: 1, Size: 8x8'


def _encoded(pillow_format: str, with_infotext: bool = True) -> str:
    buffer = io.BytesIO()
    image = Image.new("RGB", (8, 8), (10, 200, 30))
    if pillow_format == "PNG":
        text = PngImagePlugin.PngInfo()
        if with_infotext:
            text.add_text("parameters", INFOTEXT)
        image.save(buffer, format="PNG", pnginfo=text)
    else:
        # What the WebUIs write (A1111 `modules/api/api.py` encode_pil_to_base64).
        comment = piexif.helper.UserComment.dump(INFOTEXT if with_infotext else "", "unicode")
        exif = piexif.dump({"Exif": {piexif.ExifIFD.UserComment: comment}})
        image.save(buffer, format=pillow_format, exif=exif)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize(
    ("pillow_format", "expected", "extension"),
    [("PNG", ImageFormat.PNG, ".png"), ("JPEG", ImageFormat.JPEG, ".jpg"),
     ("WEBP", ImageFormat.WEBP, ".webp")],
)  # fmt: skip
def test_each_format_is_kept_byte_for_byte_with_its_infotext(pillow_format, expected, extension):
    encoded = _encoded(pillow_format)
    received = decode_received_image(encoded, "node0", "txt2img")
    assert received.data == base64.b64decode(encoded)
    assert (received.format, received.extension) == (expected, extension)
    assert received.infotext == INFOTEXT
    as_data_url = decode_received_image(f"data:image/x;base64,{encoded}", "node0", "txt2img")
    assert as_data_url.data == received.data


@pytest.mark.parametrize("pillow_format", ["PNG", "JPEG", "WEBP"])
def test_an_image_without_infotext_has_none(pillow_format):
    received = decode_received_image(_encoded(pillow_format, False), "node0", "upscale")
    assert received.infotext is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a\x01\x00\x01\x00", "txt2img sent an image that is not a PNG, JPEG or WebP "
         "(its bytes begin 47 49 46 38 39 61 01 00)"),
        (b"", "txt2img sent an image that is not a PNG, JPEG or WebP (its bytes begin nothing)"),
        (b"\x89PNG\r\n\x1a\n garbage", "txt2img sent a damaged PNG image"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "txt2img sent a damaged WEBP image"),
    ],
)  # fmt: skip
def test_anything_else_is_one_clear_error(data, message):
    with pytest.raises(WebUIBadAnswer) as caught:
        decode_received_image(base64.b64encode(data).decode(), "node0", "txt2img")
    assert caught.value.node == "node0" and caught.value.message.startswith(message)


def test_text_that_is_not_base64_is_said_so():
    with pytest.raises(WebUIBadAnswer, match="txt2img sent an image that is not valid base64"):
        decode_received_image("not base64!", "node0", "txt2img")
