"""Real encodes with the bundled ffmpeg, read back: codec, pixel format, size, duration, frames."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from stablenew_tui.errors import InputError
from stablenew_tui.video import VideoProgress, VideoSettings, encode_video
from tests.video.conftest import BLUE, GREEN, RED, MakeFrames, close_to, frame_pixels, probe


@pytest.mark.parametrize(
    ("video_format", "codec", "pixel_format"),
    [("mp4", "h264", "yuv420p"), ("webm", "vp9", "yuv420p"), ("gif", "gif", "bgra")],
)
async def test_each_format_holds_what_was_asked(
    make_frames: MakeFrames, tmp_path, video_format, codec, pixel_format
):
    frames = make_frames([RED, GREEN, BLUE])
    out = tmp_path / f"video.{video_format}"
    settings = VideoSettings(format=video_format, fps=10, seconds_per_image=0.5)
    result = await encode_video(frames, out, settings)

    found = probe(out)
    assert (found.codec, found.pixel_format) == (codec, pixel_format)
    assert (found.width, found.height) == result.size == (64, 64)
    assert found.frames == result.frames == 15
    assert found.duration == pytest.approx(1.5, abs=0.05)
    assert result.duration == pytest.approx(1.5)
    assert result.path == out and result.bytes == out.stat().st_size
    assert sorted(path.name for path in out.parent.iterdir()) == ["frames", out.name]


async def test_mp4_starts_with_its_index_so_players_can_stream_it(make_frames, tmp_path):
    out = tmp_path / "video.mp4"
    await encode_video(make_frames([RED, GREEN]), out, VideoSettings(fps=10))
    head = out.read_bytes()
    assert head.index(b"moov") < head.index(b"mdat")


async def test_odd_sized_frames_give_even_mp4_and_exact_gif(make_frames: MakeFrames, tmp_path):
    frames = make_frames([RED, GREEN], size=(65, 47))
    mp4 = await encode_video(frames, tmp_path / "odd.mp4", VideoSettings(fps=10))
    assert mp4.size == (64, 46)
    assert (probe(mp4.path).width, probe(mp4.path).height) == (64, 46)
    gif = await encode_video(frames, tmp_path / "odd.gif", VideoSettings(fps=10, format="gif"))
    assert (probe(gif.path).width, probe(gif.path).height) == (65, 47)


async def test_mixed_sizes_and_kinds_are_letterboxed_to_the_first(make_frames, tmp_path):
    first = make_frames([RED], size=(64, 64), folder="a")
    tall = make_frames([GREEN], size=(32, 64), folder="b")
    wide_rgba = make_frames([BLUE], size=(128, 64), folder="c", mode="RGBA")
    jpeg = tmp_path / "d.jpg"
    Image.new("RGB", (64, 64), GREEN).save(jpeg)
    settings = VideoSettings(fps=10, crf=0)
    result = await encode_video([*first, *tall, *wide_rgba, jpeg], tmp_path / "mixed.mp4", settings)

    assert result.size == (64, 64) and probe(result.path).frames == 40
    pillarboxed = frame_pixels(result.path, 15)
    assert close_to(pillarboxed.getpixel((32, 32)), GREEN)
    assert close_to(pillarboxed.getpixel((4, 32)), (0, 0, 0))
    assert close_to(pillarboxed.getpixel((60, 32)), (0, 0, 0))
    letterboxed = frame_pixels(result.path, 25)
    assert close_to(letterboxed.getpixel((32, 32)), BLUE)
    assert close_to(letterboxed.getpixel((32, 4)), (0, 0, 0))
    assert close_to(frame_pixels(result.path, 35).getpixel((32, 32)), GREEN)


async def test_a_requested_size_fits_every_frame_into_it(make_frames: MakeFrames, tmp_path):
    frames = make_frames([RED, GREEN], size=(64, 64))
    result = await encode_video(frames, tmp_path / "v.webm", VideoSettings(size=(96, 41)))
    assert result.size == (96, 40)
    assert (probe(result.path).width, probe(result.path).height) == (96, 40)


async def test_one_frame_makes_a_video_of_one_image_length(make_frames, tmp_path):
    settings = VideoSettings(fps=12, seconds_per_image=2.0, crossfade=0.5)
    result = await encode_video(make_frames([RED]), tmp_path / "one.mp4", settings)
    assert probe(result.path).frames == result.frames == 24
    assert result.duration == pytest.approx(2.0)


async def test_crossfades_overlap_neighbours_and_blend_at_the_right_time(make_frames, tmp_path):
    frames = make_frames([RED, GREEN, BLUE, RED])
    settings = VideoSettings(fps=10, seconds_per_image=1.0, crossfade=0.4, crf=0)
    result = await encode_video(frames, tmp_path / "fade.mp4", settings)

    assert probe(result.path).frames == 28  # (4 × 1 − 3 × 0.4) s at 10 fps
    assert probe(result.path).duration == pytest.approx(2.8, abs=0.05)

    def center(index: int) -> tuple[int, int, int]:
        return frame_pixels(result.path, index).getpixel((32, 32))

    # Transition k begins at k × (1 − 0.4) s and reaches image k 0.4 s later.
    assert close_to(center(5), RED)
    blend = center(8)
    assert blend[0] > 60 and blend[1] > 60, blend
    assert close_to(center(10), GREEN)
    assert close_to(center(16), BLUE)
    assert close_to(center(27), RED)


async def test_progress_is_reported_and_the_result_is_a_manifest_line(make_frames, tmp_path):
    out = tmp_path / "video.mp4"
    reports: list[VideoProgress] = []

    def on_progress(report: VideoProgress) -> None:
        assert not out.exists(), "the final name appears only once the file is complete"
        reports.append(report)

    result = await encode_video(
        make_frames([RED, GREEN]), out, VideoSettings(fps=10), on_progress=on_progress
    )
    fractions = [report.fraction for report in reports]
    assert fractions == sorted(fractions) and reports[-1].done and fractions[-1] == 1.0
    assert reports[-1].frame == 20 and reports[-1].duration == pytest.approx(2.0)
    line = json.loads(json.dumps(result.model_dump(mode="json")))
    assert line["format"] == "mp4" and line["frames"] == 20 and len(line["images"]) == 2
    assert line["command"][0] == str(result.ffmpeg)


async def test_no_frames_is_a_clear_input_error(tmp_path):
    with pytest.raises(InputError, match="no images to make a video from"):
        await encode_video([], tmp_path / "none.mp4")


async def test_an_output_that_is_a_folder_is_refused(make_frames: MakeFrames, tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        await encode_video(make_frames([RED]), tmp_path)


@pytest.mark.parametrize("damage", ["truncated", "not an image"])
async def test_an_unreadable_image_is_named(make_frames: MakeFrames, tmp_path, damage):
    frames = make_frames([RED, GREEN, BLUE], size=(128, 128))
    bad = frames[1]
    if damage == "truncated":
        bad.write_bytes(bad.read_bytes()[:-40])
    else:
        bad.write_text("hello")
    with pytest.raises(InputError, match=f"{bad}: cannot read image"):
        await encode_video(frames, tmp_path / "out" / "video.mp4")
    assert list((tmp_path / "out").iterdir()) == []


async def test_awkward_file_names_reach_ffmpeg_intact(make_frames: MakeFrames, tmp_path):
    names = ["it's here.png", "back\\slash & $dollar.png", "ünïcødé [1].png"]
    frames = make_frames([RED, GREEN, BLUE], folder="we'ird dir", names=names)
    result = await encode_video(frames, tmp_path / "o'ut.mp4", VideoSettings(fps=10))
    assert probe(result.path).frames == 30
