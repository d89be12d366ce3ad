"""VideoSettings: defaults, the duration arithmetic and what is refused, with clear words."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from stablenew_tui.errors import InputError
from stablenew_tui.video import VideoFormat, VideoSettings, validated_settings


def test_defaults_match_the_video_stage_defaults():
    settings = VideoSettings()
    assert (settings.fps, settings.seconds_per_image, settings.crossfade) == (24, 1.0, 0.0)
    assert settings.format is VideoFormat.MP4
    assert settings.size is None and settings.crf is None


@pytest.mark.parametrize(
    ("images", "seconds", "crossfade", "duration"),
    [(1, 2.0, 0.5, 2.0), (4, 1.0, 0.0, 4.0), (4, 1.0, 0.4, 2.8), (10, 3.0, 1.0, 21.0)],
)
def test_duration_is_n_times_s_minus_the_overlaps(images, seconds, crossfade, duration):
    settings = VideoSettings(seconds_per_image=seconds, crossfade=crossfade)
    assert settings.duration_for(images) == pytest.approx(duration)
    assert settings.frames_for(images) == round(duration * settings.fps)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"crossfade": 1.0, "seconds_per_image": 1.0}, "must be shorter than seconds_per_image"),
        ({"crossfade": 0.01}, "shorter than one frame"),
        ({"seconds_per_image": 0.01}, "shorter than one frame at 24 fps"),
        ({"crossfade": 0.99}, "no frame where an image is shown on its own"),
        ({"fps": 0}, "greater than or equal to 1"),
        ({"format": "avi"}, "'mp4', 'webm' or 'gif'"),
        ({"format": "gif", "crf": 20}, "crf does not apply to gif"),
        ({"crf": 52}, "crf for mp4 goes from 0 to 51"),
        ({"size": (0, 10)}, "outside 1..16384"),
        ({"fps": 120, "seconds_per_image": 10, "crossfade": 9}, "at most 1023"),
        ({"speed": 2}, "Extra inputs are not permitted"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(fields, words):
    with pytest.raises(ValidationError, match=words):
        VideoSettings(**fields)


def test_validated_settings_gives_one_line_input_error():
    with pytest.raises(InputError) as caught:
        validated_settings(seconds_per_image=-1)
    assert str(caught.value) == "video seconds_per_image: Input should be greater than 0"
    assert validated_settings(crf=40, format="webm").crf == 40


def test_settings_round_trip_through_json():
    settings = VideoSettings(format="webm", size=(320, 240), crf=30, crossfade=0.25)
    assert VideoSettings.model_validate(json.loads(settings.model_dump_json())) == settings
