"""Video stage: join a run's images into an MP4 (H.264), WebM (VP9) or GIF with ffmpeg.

frames = collect_frames(run_folder)
result = await encode_video(frames, run_folder / "video.mp4", VideoSettings(crossfade=0.5))
"""

from stablenew_tui.video.encoder import build_command, encode_video
from stablenew_tui.video.ffmpeg import FfmpegError, find_ffmpeg
from stablenew_tui.video.frames import collect_frames
from stablenew_tui.video.settings import (
    VideoFormat,
    VideoProgress,
    VideoResult,
    VideoSettings,
    validated_settings,
)

__all__ = [
    "FfmpegError",
    "VideoFormat",
    "VideoProgress",
    "VideoResult",
    "VideoSettings",
    "build_command",
    "collect_frames",
    "encode_video",
    "find_ffmpeg",
    "validated_settings",
]
