"""Video containers with PyAV: opening, probing, writing, and the frame rate.

Decoding frames by a sampling rule is in :mod:`mmavs.media.frame_sampling`,
decoding sound in :mod:`mmavs.media.audio`. Every problem (no such file,
undecodable data, no video or audio stream, less than one second of sound)
raises :class:`~mmavs.media.errors.MediaError` naming the file.
"""
import os.path as osp
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, Tuple

import numpy as np

from .errors import MediaError, import_av
from .vggish_logmel import MIN_AUDIO_SECONDS


@dataclass
class VideoInfo:
    """What :func:`probe_video` learns from a file's header.

    Attributes:
        width, height: Frame size in pixels.
        fps: Average frame rate, ``None`` when the container does not say.
        duration: Length in seconds, ``None`` when unknown.
        sample_rate: Audio sample rate in Hz.
        channels: Audio channels.
    """
    width: int
    height: int
    fps: Optional[float]
    duration: Optional[float]
    sample_rate: int
    channels: int

    def num_sampled_frames(self, rate: float) -> Optional[int]:
        """How many frames
        :func:`~mmavs.media.frame_sampling.iter_sampled_frames` will give,
        if known."""
        from .frame_sampling import count_intervals
        if self.duration is None:
            return None
        return count_intervals(self.duration, rate)


def open_container(path: str):
    """Open ``path`` for reading; raise :class:`MediaError` on failure."""
    av = import_av()
    if not osp.isfile(path):
        raise MediaError(path, 'video file not found')
    try:
        return av.open(path)
    except (av.FFmpegError, OSError, ValueError) as err:
        raise MediaError(path, f'cannot read video: {err}') from err


def stream_start(stream) -> float:
    """A stream's start time in seconds (0 when the container does not say)."""
    if stream.start_time is None or stream.time_base is None:
        return 0.0
    return float(stream.start_time * stream.time_base)


def frame_rate(stream) -> float:
    """The rate FFmpeg reports for a video stream (average, else guessed)."""
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(Fraction(rate))
    raise ValueError('the video stream reports no frame rate')


def probe_video(path: str) -> VideoInfo:
    """Check that ``path`` has a video and an audio stream and is long enough.

    Raises:
        MediaError: The file is missing or unreadable, has no video or no
            audio stream, or its header says it is shorter than one second.
    """
    av = import_av()
    with open_container(path) as container:
        if not container.streams.video:
            raise MediaError(path, 'has no video stream')
        if not container.streams.audio:
            raise MediaError(
                path, 'has no audio track: audio-visual segmentation needs '
                'the sound of the video')
        video, audio = container.streams.video[0], container.streams.audio[0]
        duration = None
        if container.duration is not None:
            duration = container.duration / av.time_base
        elif video.duration is not None and video.time_base is not None:
            duration = float(video.duration * video.time_base)
        fps = float(video.average_rate) if video.average_rate else None
        info = VideoInfo(
            width=video.codec_context.width,
            height=video.codec_context.height,
            fps=fps,
            duration=duration,
            sample_rate=audio.codec_context.sample_rate,
            channels=audio.codec_context.channels)
    if duration is not None and duration < MIN_AUDIO_SECONDS:
        raise MediaError(
            path, f'is {duration:.2f} s long, shorter than one second: '
            'each frame is paired with a second of sound')
    return info


def pick_video_codec() -> str:
    """H.264 (libx264) when PyAV's FFmpeg has it, else MPEG-4 part 2."""
    av = import_av()
    return 'libx264' if 'libx264' in av.codecs_available else 'mpeg4'


class VideoWriter:
    """Encode RGB frames into a video file (yuv420p), e.g. an overlay.

    The size is taken from the first frame; odd sizes are padded by one
    edge pixel, since yuv420p needs even sides.

    Args:
        path: Output file; the container follows its extension.
        fps: Frames per second of the output.
        codec: FFmpeg encoder name; by default :func:`pick_video_codec`.
        size: ``(H, W)`` of the frames, to add the video stream now (before
            other streams); by default it is added at the first frame.
    """

    def __init__(self, path: str, fps: float,
                 codec: Optional[str] = None,
                 size: Optional[Tuple[int, int]] = None) -> None:
        av = import_av()
        self.path = path
        self.container = av.open(path, mode='w')
        self.rate = Fraction(fps).limit_denominator(1001)
        self.codec = codec or pick_video_codec()
        self.stream = None
        self.num_frames = 0
        if size is not None:
            self._add_stream(*size)

    def _add_stream(self, height: int, width: int) -> None:
        self.stream = self.container.add_stream(self.codec, rate=self.rate)
        self.stream.height, self.stream.width = height + height % 2, \
            width + width % 2
        self.stream.pix_fmt = 'yuv420p'

    def write(self, image: np.ndarray) -> None:
        """Append one ``(H, W, 3)`` uint8 RGB frame."""
        av = import_av()
        pad_h, pad_w = image.shape[0] % 2, image.shape[1] % 2
        if pad_h or pad_w:
            image = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), 'edge')
        if self.stream is None:
            self._add_stream(*image.shape[:2])
        frame = av.VideoFrame.from_ndarray(
            np.ascontiguousarray(image), format='rgb24')
        self.container.mux(self.stream.encode(frame))
        self.num_frames += 1

    def close(self) -> None:
        """Flush the encoder and close the file."""
        if self.stream is not None:
            self.container.mux(self.stream.encode(None))
        self.container.close()

    def __enter__(self) -> 'VideoWriter':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def count_video_frames(path: str) -> int:
    """Decode ``path`` and count its video frames (for checks and tests)."""
    with open_container(path) as container:
        return sum(1 for _ in container.decode(video=0))
