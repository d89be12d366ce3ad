"""Procedural pictures standing in for diffusion output.

The same prompt, seed, size and model always give the same pixels; each prompt word becomes a
shape whose kind and colour come from a hash of the word, so different prompts look different at
a glance, and the seed moves things around. Drawing is plain Pillow and cheap (a few ms for
512×512): benchmarks push thousands through. `sim.encoding` puts them on the wire.
"""

from __future__ import annotations

import base64
import binascii
import colorsys
import hashlib
import io
import random
import re

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from stablenew_tui.sim.errors import SimHTTPError

# Words every prompt has: they would make every picture share the same shapes.
_STOPWORDS = frozenset(
    ("and", "the", "with", "for", "from", "are", "very", "highly", "best", "quality", "lora")
)
_WORD = re.compile(r"[a-z]{3,}")
_MAX_SHAPES = 24


def stable_hash(*parts: object) -> int:
    """A 64-bit hash that, unlike hash(), is the same in every process."""
    text = "\x1f".join(str(part) for part in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _colour(key: int, saturation: float, lightness: float) -> tuple[int, int, int]:
    hue = (key % 360) / 360
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, saturation)
    return round(red * 255), round(green * 255), round(blue * 255)


def prompt_words(prompt: str) -> list[str]:
    return [word for word in _WORD.findall(prompt.lower()) if word not in _STOPWORDS]


def draw_scene(prompt: str, seed: int, width: int, height: int, model: str) -> Image.Image:
    """The finished picture for one image of a job."""
    words = prompt_words(prompt) or ["empty"]
    scene_key = stable_hash(" ".join(sorted(set(words))), model)
    sky = _colour(scene_key, 0.55, 0.22)
    ground = _colour(scene_key >> 16, 0.6, 0.62)
    # The sky is a vertical gradient: colour one column, then stretch it (much cheaper).
    column = ImageOps.colorize(Image.linear_gradient("L").resize((1, 256)), sky, ground)
    image = column.resize((width, height), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    rng = random.Random(stable_hash(seed, model, width, height))
    size = min(width, height)
    # A glowing disc and a horizon give every picture a scene before the words add shapes.
    glow = _colour(scene_key >> 32, 0.9, 0.7)
    sun_x, sun_y, sun_r = rng.random() * width, rng.random() * height * 0.5, size * 0.12
    for ring in range(4, 0, -1):
        radius = sun_r * (1 + ring * 0.35)
        halo = tuple((c * (5 - ring) + s * ring) // 5 for c, s in zip(glow, sky, strict=True))
        draw.ellipse((sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius), fill=halo)
    draw.ellipse((sun_x - sun_r, sun_y - sun_r, sun_x + sun_r, sun_y + sun_r), fill=glow)
    horizon = height * (0.55 + 0.2 * rng.random())
    hills: list[tuple[float, float]] = [(0, height), (0, horizon)]
    for step in range(1, 9):
        hills.append((width * step / 8, horizon + (rng.random() - 0.5) * height * 0.12))
    hills.append((width, height))
    draw.polygon(hills, fill=_colour(scene_key >> 48, 0.45, 0.25))
    for word in words[:_MAX_SHAPES]:
        key = stable_hash(word)
        fill = _colour(key >> 8, 0.75, 0.3 + (key % 40) / 100)
        x, y = rng.random() * width, rng.random() * height
        radius = (0.06 + 0.16 * ((key >> 20) % 100) / 100) * size * (0.7 + 0.6 * rng.random())
        box = (x - radius, y - radius, x + radius, y + radius)
        edge = tuple(channel // 2 for channel in fill)
        width_px = max(1, size // 170)
        match key % 4:
            case 0:
                draw.ellipse(box, fill=fill, outline=edge, width=width_px)
            case 1:
                draw.rounded_rectangle(box, radius / 4, fill=fill, outline=edge, width=width_px)
            case 2:
                corners = [(x, y - radius), (x + radius, y + radius), (x - radius, y + radius)]
                draw.polygon(corners, fill=fill, outline=edge, width=width_px)
            case _:
                draw.regular_polygon(
                    (x, y, radius),
                    6,
                    rotation=rng.random() * 60,
                    fill=fill,
                    outline=edge,
                    width=width_px,
                )
    return image


def unfinished(final: Image.Image, fraction: float) -> Image.Image:
    """What a job stopped at `fraction` of its steps shows: a blurred, washed-out `final`."""
    if fraction >= 1:
        return final
    width, height = final.size
    coarse = final.resize((max(width // 16, 1), max(height // 16, 1)), Image.Resampling.BILINEAR)
    coarse = coarse.resize((width, height), Image.Resampling.NEAREST)
    grey = Image.new("RGB", final.size, (118, 118, 118))
    return Image.blend(Image.blend(grey, coarse, min(1.0, 0.3 + fraction)), final, fraction**2)


def blend_into(init: Image.Image, drawn: Image.Image, denoising_strength: float) -> Image.Image:
    """img2img: the init image pulled toward the drawing as far as the denoising strength says."""
    strength = min(max(denoising_strength, 0.0), 1.0)
    return Image.blend(init.convert("RGB"), drawn, strength)


def fit(image: Image.Image, width: int, height: int, resize_mode: int) -> Image.Image:
    """Resize as A1111's img2img `resize_mode` does: 0 stretch, 1 crop, 2 pad (3 = latent: 0)."""
    image = image.convert("RGB")
    if image.size == (width, height):
        return image
    if resize_mode == 1:
        return ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)
    if resize_mode == 2:
        return ImageOps.pad(image, (width, height), Image.Resampling.LANCZOS)
    return image.resize((width, height), Image.Resampling.LANCZOS)


def upscale(image: Image.Image, width: int, height: int, upscaler: str) -> Image.Image:
    """A resize that looks a little like the named upscaler: blocky, smooth or sharpened."""
    if upscaler == "Nearest":
        return image.resize((width, height), Image.Resampling.NEAREST)
    resized = image.resize((width, height), Image.Resampling.LANCZOS)
    if upscaler in ("Lanczos", "None") or upscaler.startswith("Latent"):
        return resized
    return resized.filter(ImageFilter.UnsharpMask(radius=2, percent=60, threshold=2))


def grid(images: list[Image.Image]) -> Image.Image:
    """The contact sheet A1111 puts first when it makes a grid."""
    columns = max(1, round(len(images) ** 0.5 + 0.4999))
    rows = -(-len(images) // columns)
    width, height = images[0].size
    sheet = Image.new("RGB", (columns * width, rows * height), "black")
    for index, image in enumerate(images):
        sheet.paste(image, ((index % columns) * width, (index // columns) * height))
    return sheet


def decode_image(encoded: str) -> Image.Image:
    """A request's base64 image (a data: URL is accepted); 500 "Invalid encoded image" if not."""
    try:
        if encoded.startswith("data:image/"):
            encoded = encoded.split(";")[1].split(",")[1]
        image = Image.open(io.BytesIO(base64.b64decode(encoded)))
        image.load()
    except (OSError, ValueError, binascii.Error, IndexError) as error:
        raise SimHTTPError(500, "Invalid encoded image") from error
    return image
