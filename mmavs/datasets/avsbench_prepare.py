"""Turn AVSBench videos into the released frames and audio features.

The AVSBench authors extracted the released files from their trimmed 5 s
videos (``raw_videos``) as follows; this module does the same with PyAV (which
bundles FFmpeg, so no system package is needed):

- **Frames.** Every frame is decoded in order and squashed (not cropped) to
  224x224 with OpenCV's bilinear ``resize``. With ``F = round(fps)``, the frame
  kept for second ``l`` (0-based) has index ``int(l * F + 15 / 16 * F)``: the
  reference samples 16 positions per second and keeps the last one, so the
  frame lies near the end of the second (frame 28 of 30 at 30 fps). An index
  past the last frame takes the last frame.
- **Audio** (``mode='reference'``, the default). The reference read the
  soundtrack through moviepy: FFmpeg resamples it to 44.1 kHz stereo 16-bit,
  then 16 kHz samples are *picked* at the nearest 44.1 kHz index
  (``round(44100 * k / 16000)``, no low-pass filter) and clipped to
  ``±0.99`` full scale, and the result is written as a 16 kHz stereo WAV. The
  log-mel features are those of the WAV, averaged to mono
  (:func:`~mmavs.datasets.vggish_logmel.waveform_to_examples`), 5 examples,
  the last one repeated when the clip is short. ``mode='resample'`` instead
  resamples straight to 16 kHz with FFmpeg's band-limited resampler: cleaner,
  but not what the released features were made with.

Pixel values can differ from the released PNGs by a few levels where the
FFmpeg builds convert YUV to RGB differently; the sampling positions do not.
"""
import os
import os.path as osp
from fractions import Fraction
from typing import Dict, List, Optional

import numpy as np

from .vggish_logmel import SAMPLE_RATE, waveform_to_examples

FRAME_SIZE = 224
# The reference samples this many positions per second and keeps the last.
POSITIONS_PER_SECOND = 16
# moviepy decodes soundtracks at this rate, in stereo, before picking samples.
REFERENCE_DECODE_RATE = 44100
# moviepy clips samples to +-0.99 full scale before writing 16-bit PCM.
REFERENCE_CLIP = int(0.99 * 32768)
AUDIO_MODES = ('reference', 'resample')


def _import_av():
    try:
        import av
    except ImportError as err:  # optional dependency
        raise ImportError(
            'decoding videos needs PyAV: pip install av (it bundles FFmpeg)'
        ) from err
    return av


def reference_frame_index(second: int, fps: float) -> int:
    """Index of the frame the reference keeps for ``second`` (0-based).

    Args:
        second: Second of the clip, from 0.
        fps: The video's frame rate; rounded to an integer first, as the
            reference does.

    Returns:
        int: ``int(second * F + 15/16 * F)`` with ``F = round(fps)``.
    """
    interval = int(round(fps))
    last = (POSITIONS_PER_SECOND - 1) / POSITIONS_PER_SECOND
    return int(second * interval + last * interval)


def _frame_rate(stream) -> float:
    """The rate FFmpeg reports for a video stream (average, else guessed)."""
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(Fraction(rate))
    raise ValueError('the video stream reports no frame rate')


def _squash(frame, size: int) -> np.ndarray:
    """A frame as RGB ``(size, size, 3)`` uint8, resized as the reference."""
    import cv2

    # FFmpeg's command-line tools convert pixel formats with bicubic
    # interpolation; the reference decoded through them.
    rgb = frame.to_ndarray(format='rgb24', interpolation='BICUBIC')
    return cv2.resize(rgb, (size, size), interpolation=cv2.INTER_LINEAR)


def read_reference_frames(path: str,
                          num_frames: int = 5,
                          size: int = FRAME_SIZE,
                          start: float = 0.0) -> List[np.ndarray]:
    """Decode a video and keep one frame per second, as AVSBench did.

    Args:
        path: Video file.
        num_frames: Seconds (frames) to keep.
        size: Side of the squashed output frames.
        start: Seconds to skip first (for videos not trimmed to the clip);
            frame indices count from the first frame at or after it.

    Returns:
        list: ``num_frames`` RGB arrays ``(size, size, 3)`` uint8.

    Raises:
        ValueError: The file has no video stream or no frame after
            ``start``.
    """
    av = _import_av()
    with av.open(path) as container:
        if not container.streams.video:
            raise ValueError(f'{path}: no video stream')
        stream = container.streams.video[0]
        fps = _frame_rate(stream)
        wanted = [reference_frame_index(s, fps) for s in range(num_frames)]
        kept: Dict[int, np.ndarray] = {}
        index, last, first_time = -1, None, None
        for frame in container.decode(stream):
            if start > 0 and frame.time is not None:
                first_time = frame.time if first_time is None else first_time
                if frame.time - first_time < start - 1e-6:
                    continue
            index += 1
            if index in wanted:
                kept[index] = _squash(frame, size)
                last = kept[index]
            elif index > max(wanted):
                break
            else:
                last = frame
    if index < 0:
        raise ValueError(f'{path}: no video frame after {start} s')
    if not isinstance(last, np.ndarray):
        last = _squash(last, size)
    # Past the end, the reference takes the last decoded frame.
    return [kept.get(i, last) for i in wanted]


def _decode_audio(path: str, rate: int, layout: Optional[str]) -> np.ndarray:
    """Decode the first audio stream to int16 ``(samples, channels)``.

    Args:
        path: Media file.
        rate: Output sample rate (FFmpeg's resampler).
        layout: Output channel layout (``'stereo'``), or None to keep the
            stream's own.

    Returns:
        np.ndarray: The samples, from the stream's first decoded one.
    """
    av = _import_av()
    with av.open(path) as container:
        if not container.streams.audio:
            raise ValueError(f'{path}: no audio stream')
        stream = container.streams.audio[0]
        layout = layout or stream.layout.name
        resampler = av.AudioResampler(format='s16', layout=layout, rate=rate)
        channels = len(av.AudioLayout(layout).channels)
        chunks = []
        for frame in container.decode(stream):
            chunks += [f.to_ndarray() for f in resampler.resample(frame)]
        chunks += [f.to_ndarray() for f in resampler.resample(None)]
    if not chunks:
        raise ValueError(f'{path}: the audio stream holds no samples')
    # Packed s16 frames come as (1, samples * channels), interleaved.
    samples = np.concatenate([c.reshape(-1) for c in chunks])
    return samples.reshape(-1, channels)


def read_reference_audio(path: str,
                         mode: str = 'reference',
                         start: float = 0.0) -> np.ndarray:
    """The 16 kHz int16 soundtrack AVSBench computed its features from.

    Args:
        path: Video (or audio) file.
        mode: ``'reference'`` (moviepy's nearest-sample pick from 44.1 kHz
            stereo, clipped at 0.99) or ``'resample'`` (FFmpeg's resampler
            straight to 16 kHz, channels kept).
        start: Seconds to skip first (untrimmed videos).

    Returns:
        np.ndarray: ``(samples, channels)`` int16 at 16 kHz.
    """
    if mode not in AUDIO_MODES:
        raise ValueError(f'mode must be one of {AUDIO_MODES}, got {mode!r}')
    if mode == 'resample':
        wave = _decode_audio(path, SAMPLE_RATE, None)
        return wave[int(round(start * SAMPLE_RATE)):]
    wave = _decode_audio(path, REFERENCE_DECODE_RATE, 'stereo')
    wave = wave[int(round(start * REFERENCE_DECODE_RATE)):]
    num = int(SAMPLE_RATE * len(wave) / REFERENCE_DECODE_RATE)
    picks = np.round(
        REFERENCE_DECODE_RATE * np.arange(num) / SAMPLE_RATE).astype(int)
    picks = picks[picks < len(wave)]
    return np.clip(wave[picks], -REFERENCE_CLIP, REFERENCE_CLIP)


def clip_log_mel(wave: np.ndarray, num_frames: int = 5) -> np.ndarray:
    """VGGish log-mel of a 16 kHz int16 soundtrack, ``(T, 1, 96, 64)``."""
    return waveform_to_examples(wave, SAMPLE_RATE, num_seconds=num_frames)


def _save_png(rgb: np.ndarray, path: str) -> None:
    from PIL import Image
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(rgb).save(path)


def _save_wav(wave: np.ndarray, path: str) -> None:
    from scipy.io import wavfile
    os.makedirs(osp.dirname(path), exist_ok=True)
    wavfile.write(path, SAMPLE_RATE, wave)


def convert_video(video: str,
                  frame_paths: List[str],
                  log_mel_path: str,
                  wav_path: Optional[str] = None,
                  audio_mode: str = 'reference',
                  start: float = 0.0) -> None:
    """Write one clip's frames, log-mel (``.npy``) and optionally WAV.

    Args:
        video: The clip's video file.
        frame_paths: One PNG path per second; their number sets how many
            frames and log-mel examples are made.
        log_mel_path: Output ``.npy`` of shape ``(T, 1, 96, 64)`` float32.
        wav_path: Output 16 kHz WAV, or None to skip it.
        audio_mode: See :func:`read_reference_audio`.
        start: Seconds to skip first (untrimmed videos).
    """
    num_frames = len(frame_paths)
    frames = read_reference_frames(video, num_frames, start=start)
    wave = read_reference_audio(video, audio_mode, start=start)
    log_mel = clip_log_mel(wave, num_frames)
    for rgb, path in zip(frames, frame_paths):
        _save_png(rgb, path)
    os.makedirs(osp.dirname(log_mel_path), exist_ok=True)
    np.save(log_mel_path, log_mel)
    if wav_path is not None:
        _save_wav(wave, wav_path)
