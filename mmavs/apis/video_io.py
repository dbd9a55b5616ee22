"""Reading and writing videos with PyAV: sampled frames, audio, overlays.

Frames are sampled at ``rate`` per second, as AVSBench samples one frame per
second: sampled frame ``k`` covers the interval ``[k / rate, (k + 1) / rate)``
and shows the picture on screen at the middle of it (the last decoded frame
whose time is at most ``(k + 0.5) / rate``). A trailing, partial interval
counts when its middle lies inside the video. Times are in seconds from the
first video frame.

Every problem (no such file, undecodable data, no video or audio stream, less
than one second of sound) raises :class:`VideoReadError` naming the file.
"""
import os.path as osp
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator, Optional, Tuple

import numpy as np

from mmavs.datasets.vggish_logmel import (EXAMPLE_FRAMES, HOP_SECONDS,
                                          SAMPLE_RATE, WINDOW_SECONDS)

# Samples one VGGish example reads at 16 kHz: a 25 ms window and 95 hops.
EXAMPLE_SAMPLES = int(round(SAMPLE_RATE * WINDOW_SECONDS)) + \
    (EXAMPLE_FRAMES - 1) * int(round(SAMPLE_RATE * HOP_SECONDS))
MIN_AUDIO_SECONDS = EXAMPLE_SAMPLES / SAMPLE_RATE  # 0.975 s


class VideoReadError(ValueError):
    """A video cannot be used: unreadable, no audio, or too short."""


def import_av():
    """Import PyAV, or explain how to install it."""
    try:
        import av
    except ImportError as err:  # pragma: no cover - depends on the env
        raise ImportError('reading and writing videos needs PyAV: '
                          'pip install av') from err
    return av


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
        """How many frames :func:`iter_sampled_frames` will give, if known."""
        if self.duration is None:
            return None
        return count_intervals(self.duration, rate)


@dataclass
class SampledFrame:
    """One sampled frame.

    Attributes:
        index: ``k``, the sampling interval.
        start: ``k / rate``, where the interval (and its audio) begins.
        time: Time of the decoded frame shown.
        image: ``(H, W, 3)`` uint8 RGB.
    """
    index: int
    start: float
    time: float
    image: np.ndarray


def count_intervals(duration: float, rate: float) -> int:
    """Intervals of ``1 / rate`` s whose middle lies before ``duration``."""
    return max(0, int(np.ceil(duration * rate - 0.5 - 1e-9)))


def open_container(path: str):
    """Open ``path`` for reading; raise :class:`VideoReadError` on failure."""
    av = import_av()
    if not osp.isfile(path):
        raise VideoReadError(f'video file not found: {path}')
    try:
        return av.open(path)
    except (av.FFmpegError, OSError, ValueError) as err:
        raise VideoReadError(f'cannot read video {path}: {err}') from err


def _stream_start(stream) -> float:
    if stream.start_time is None or stream.time_base is None:
        return 0.0
    return float(stream.start_time * stream.time_base)


def probe_video(path: str) -> VideoInfo:
    """Check that ``path`` has a video and an audio stream and is long enough.

    Raises:
        VideoReadError: The file is missing or unreadable, has no video or
            no audio stream, or its header says it is shorter than one second.
    """
    av = import_av()
    with open_container(path) as container:
        if not container.streams.video:
            raise VideoReadError(f'{path} has no video stream')
        if not container.streams.audio:
            raise VideoReadError(
                f'{path} has no audio track: audio-visual segmentation needs '
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
        raise VideoReadError(
            f'{path} is {duration:.2f} s long, shorter than one second: '
            'each frame is paired with a second of sound')
    return info


def read_audio(path: str) -> Tuple[np.ndarray, int, float]:
    """Decode the first audio stream of ``path``.

    Returns:
        tuple: The waveform ``(num_samples, channels)`` float32 in [-1, 1],
        its sample rate, and its start relative to the first video frame's
        stream start, in seconds.

    Raises:
        VideoReadError: No audio stream, undecodable audio, or less than
            :data:`MIN_AUDIO_SECONDS` of it.
    """
    av = import_av()
    chunks = []
    with open_container(path) as container:
        if not container.streams.audio:
            raise VideoReadError(f'{path} has no audio track')
        stream = container.streams.audio[0]
        offset = _stream_start(stream) - (_stream_start(
            container.streams.video[0]) if container.streams.video else 0.0)
        resampler = None
        sample_rate = stream.codec_context.sample_rate
        try:
            for frame in container.decode(stream):
                # Convert any sample format to float planar, same rate and
                # channels; mono mixing and resampling happen later, once.
                if resampler is None:
                    sample_rate = frame.sample_rate
                    resampler = av.AudioResampler(
                        format='fltp', layout=frame.layout.name,
                        rate=frame.sample_rate)
                for converted in resampler.resample(frame):
                    chunks.append(converted.to_ndarray())
        except av.FFmpegError as err:
            raise VideoReadError(
                f'cannot decode the audio of {path}: {err}') from err
    wave = np.concatenate(chunks, axis=1).T if chunks else np.zeros((0, 1))
    seconds = wave.shape[0] / float(sample_rate or 1)
    if seconds < MIN_AUDIO_SECONDS:
        raise VideoReadError(
            f'{path} has {seconds:.2f} s of audio, shorter than one second: '
            f'one frame needs {MIN_AUDIO_SECONDS:.3f} s of sound')
    return wave.astype(np.float32), int(sample_rate), offset


def iter_sampled_frames(path: str,
                        rate: float = 1.0) -> Iterator[SampledFrame]:
    """Decode the first video stream and yield one frame per ``1 / rate`` s.

    Frames are decoded one by one and only the sampled ones are converted to
    arrays, so long videos need little memory.

    Raises:
        VideoReadError: Unreadable file, no video stream or no frame.
    """
    if rate <= 0:
        raise ValueError(f'the sampling rate must be positive, got {rate}')
    av = import_av()
    with open_container(path) as container:
        if not container.streams.video:
            raise VideoReadError(f'{path} has no video stream')
        stream = container.streams.video[0]
        stream.thread_type = 'AUTO'
        step = 1.0 / float(stream.average_rate) if stream.average_rate \
            else 0.0
        index, first, shown = 0, None, None
        try:
            for count, frame in enumerate(container.decode(stream)):
                time = frame.time if frame.time is not None else count * step
                first = time if first is None else first
                time -= first
                # Every interval whose middle has passed gets the frame that
                # was on screen then.
                while shown is not None and time > (index + 0.5) / rate:
                    yield _sample(index, rate, *shown)
                    index += 1
                shown = (time, frame)
        except av.FFmpegError as err:
            raise VideoReadError(
                f'cannot decode the video of {path}: {err}') from err
        if shown is None:
            raise VideoReadError(f'{path}: no video frame could be decoded')
        end = shown[0] + step
        while index < max(1, count_intervals(end, rate)):
            yield _sample(index, rate, *shown)
            index += 1


def _sample(index: int, rate: float, time: float, frame) -> SampledFrame:
    return SampledFrame(index=index, start=index / rate, time=time,
                        image=frame.to_ndarray(format='rgb24'))


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
