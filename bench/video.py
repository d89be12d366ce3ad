"""Video stage benchmark: 300 distinct 512×512 frames to MP4 at default settings.

Prints the encode time and the real-time factor (seconds of video per second of encoding), and
beside it two baselines from the same run: the same encode with a 0.5 s crossfade, and plain
ffmpeg fed the same frames through the same concat list and codec options, without this
project's frame checks, ffmpeg lookup and progress parsing.

    python bench/video.py [--images N]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from stablenew_tui.video import VideoSettings, encode_video, find_ffmpeg
from stablenew_tui.video.frames import collect_frames
from stablenew_tui.video.prepare import write_concat_list

SIDE = 512


def draw_frame(index: int) -> Image.Image:
    """A smooth, textured, colourful frame, different for every index (a stand-in for a
    generated picture: flat colours would make the encoder's job unrealistically easy)."""
    noise = Image.effect_noise((SIDE // 8, SIDE // 8), 64 + index % 64)
    texture = noise.resize((SIDE, SIDE), Image.Resampling.BICUBIC)
    hue = Image.linear_gradient("L").rotate(index * 7 % 360).resize((SIDE, SIDE))
    image = Image.merge("RGB", (texture, hue, Image.eval(texture, lambda v: (v + index) % 256)))
    draw = ImageDraw.Draw(image)
    x, y = (index * 37) % (SIDE - 160), (index * 61) % (SIDE - 160)
    draw.ellipse((x, y, x + 160, y + 160), fill=((index * 53) % 256, 255 - index % 256, 90))
    draw.text((12, 12), f"frame {index}", fill=(255, 255, 255))
    return image.filter(ImageFilter.SMOOTH)


async def encode(frames: list[Path], out: Path, settings: VideoSettings) -> tuple[float, float]:
    started = time.perf_counter()
    result = await encode_video(frames, out, settings)
    return time.perf_counter() - started, result.duration


def plain_ffmpeg(ffmpeg: Path, frames: list[Path], folder: Path, settings: VideoSettings) -> float:
    listing = folder / "plain.ffconcat"
    write_concat_list(frames, settings, listing)
    command = [str(ffmpeg), "-hide_banner", "-loglevel", "error", "-y"]
    command += ["-f", "concat", "-safe", "0", "-i", str(listing)]
    command += ["-vf", f"fps={settings.fps},format=yuv420p", "-c:v", "libx264", "-crf", "23"]
    command += ["-tune", "stillimage", "-movflags", "+faststart"]
    command += ["-frames:v", str(settings.frames_for(len(frames))), str(folder / "plain.mp4")]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


async def main(images: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-video-") as work:
        folder = Path(work)
        (folder / "frames").mkdir()
        for index in range(images):
            draw_frame(index).save(folder / "frames" / f"{index:04d}.png")
        frames = collect_frames(folder / "frames")
        defaults = VideoSettings()
        ffmpeg = await find_ffmpeg(defaults.format.encoder)
        print(f"{images} frames {SIDE}x{SIDE} → MP4, ffmpeg {ffmpeg}")

        seconds, duration = await encode(frames, folder / "default.mp4", defaults)
        crossfade = defaults.model_copy(update={"crossfade": 0.5})
        fade_seconds, fade_duration = await encode(frames, folder / "fade.mp4", crossfade)
        plain_seconds = plain_ffmpeg(ffmpeg, frames, folder, defaults)

        print(f"{'encode':<34}{'seconds':>9}{'video s':>9}{'× real time':>13}{'vs default':>12}")
        rows = [
            ("default (1 s/image, 24 fps, cut)", seconds, duration),
            ("with 0.5 s crossfade", fade_seconds, fade_duration),
            ("plain ffmpeg concat, same frames", plain_seconds, duration),
        ]
        for name, spent, video in rows:
            ratio = spent / seconds
            print(f"{name:<34}{spent:>9.2f}{video:>9.1f}{video / spent:>13.1f}{ratio:>12.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300)
    asyncio.run(main(parser.parse_args().images))
