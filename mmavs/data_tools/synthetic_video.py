"""A synthetic video with sound: the synthetic AVSBench scenes, in motion.

The objects, textures, sounds and sounding schedule are those of
:mod:`mmavs.data_tools.synthetic_avsbench` (an MS3-style clip: one or two of 3-4
objects sound each second); here the objects move smoothly at the video's
frame rate and the sound is written at any sample rate and channel count, in
a real container (e.g. MP4 with H.264 and AAC), to exercise the video demo
and the inferencer end to end.
"""
from typing import Optional

import numpy as np

from .synthetic_avsbench import (SAMPLE_RATE, describe_clip, render_audio,
                                 render_frame)


def video_track(track: list, num_frames: int, fps: float) -> list:
    """Positions at each video frame, interpolated between seconds.

    Args:
        track: ``(x, y)`` per second, one more than the seconds shown.
        num_frames: Video frames to place.
        fps: Video frame rate.
    """
    seconds = np.arange(len(track))
    times = np.arange(num_frames) / fps
    points = np.asarray(track)
    return np.stack([np.interp(times, seconds, points[:, i])
                     for i in range(2)], axis=1).tolist()


def describe_video(seconds: float, fps: float, size: int,
                   seed: int) -> dict:
    """Objects with per-video-frame tracks and a per-second sounding list."""
    whole = int(np.ceil(seconds))
    clip = describe_clip(np.random.default_rng(seed), 'video', True,
                         whole + 1, size)
    num_frames = int(round(seconds * fps))
    for obj in clip['objects']:
        # Objects drift 3 % of the frame per second in the AVSBench-style
        # data; five times that makes the motion plain to see.
        start = np.asarray(obj['track'][0])
        step = (np.asarray(obj['track'][1]) - start) * 5
        radius = obj['radius']
        per_second = [np.clip(start + s * step, radius, size - radius)
                      for s in range(whole + 1)]
        obj['track'] = video_track(per_second, num_frames, fps)
    clip['sounding'] = clip['sounding'][:whole]
    clip.update(seconds=seconds, fps=fps, size=size, num_frames=num_frames)
    return clip


def sounding_mask(clip: dict, frame: int) -> np.ndarray:
    """The ground-truth mask (sounding objects) of a video frame, bool."""
    _, visible = render_frame(clip['objects'], frame, clip['size'],
                              clip['background_seed'])
    second = min(int(frame / clip['fps']), len(clip['sounding']) - 1)
    mask = np.zeros((clip['size'], clip['size']), dtype=bool)
    for index in clip['sounding'][second]:
        mask |= visible[index]
    return mask


def video_audio(clip: dict, sample_rate: int, channels: int) -> np.ndarray:
    """The clip's sound at ``sample_rate``, ``(channels, samples)`` float32."""
    wave = render_audio(clip, clip['audio_seed'])
    if sample_rate != SAMPLE_RATE:
        from math import gcd

        from scipy.signal import resample_poly
        divisor = gcd(sample_rate, SAMPLE_RATE)
        wave = resample_poly(wave, sample_rate // divisor,
                             SAMPLE_RATE // divisor)
    wave = wave[:int(round(clip['seconds'] * sample_rate))]
    # Slightly different gains per channel, so a mono mix is a real mix.
    gains = np.linspace(1.0, 0.8, channels)[:, None]
    return np.clip(gains * wave[None], -1, 1).astype(np.float32)


def make_synthetic_video(path: str,
                         seconds: float = 4.0,
                         fps: float = 25.0,
                         size: int = 96,
                         sample_rate: Optional[int] = 44100,
                         channels: int = 2,
                         seed: int = 0) -> dict:
    """Write a video of moving synthetic objects and their sounds.

    Args:
        path: Output file; the container follows the extension (``.mp4``,
            ``.mkv``, ...). Video: H.264 (or MPEG-4), yuv420p. Audio: AAC.
        seconds: Length; may be fractional.
        fps: Video frame rate.
        size: Frame side in pixels (even).
        sample_rate: Audio sample rate in Hz; ``None`` writes no audio track.
        channels: Audio channels (1 or 2).
        seed: Everything written is a function of the seed and the options.

    Returns:
        dict: The clip description (see :func:`describe_video`), which
        :func:`sounding_mask` turns into ground-truth masks.
    """
    import av

    from mmavs.media import VideoWriter
    clip = describe_video(seconds, fps, size, seed)
    writer = VideoWriter(path, fps, size=(size, size))
    if sample_rate is not None:
        audio = writer.container.add_stream(
            'aac', rate=sample_rate, layout='mono' if channels == 1 else
            'stereo')
    for frame in range(clip['num_frames']):
        image, _ = render_frame(clip['objects'], frame, size,
                                clip['background_seed'])
        writer.write(image)
    if sample_rate is not None:
        wave = video_audio(clip, sample_rate, channels)
        chunk = 4096
        for begin in range(0, wave.shape[1], chunk):
            piece = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(wave[:, begin:begin + chunk]),
                format='fltp', layout=audio.layout.name)
            piece.sample_rate, piece.pts = sample_rate, begin
            writer.container.mux(audio.encode(piece))
        writer.container.mux(audio.encode(None))
    writer.close()
    return clip
