"""Turn AVSBench videos into the released frames and audio features.

The AVSBench authors extracted the released files from their trimmed 5 s
videos (``raw_videos``); :func:`convert_video` does the same with PyAV (which
bundles FFmpeg, so no system package is needed), through :mod:`mmavs.media`:

- **Frames**: :func:`~mmavs.media.frame_sampling.read_reference_frames`, one
  frame near the end of each second squashed to 224x224 (the preparation
  rule, written next to the inference rule in
  :mod:`mmavs.media.frame_sampling`).
- **Audio**: :func:`~mmavs.media.audio.read_reference_audio` (moviepy's
  nearest-sample pick from 44.1 kHz stereo, ``mode='reference'``, or
  FFmpeg's band-limited resampler, ``mode='resample'``); the log-mel
  features are those of that 16 kHz WAV averaged to mono
  (:func:`~mmavs.media.vggish_logmel.waveform_to_examples`), 5 examples, the
  last one repeated when the clip is short.

Pixel values can differ from the released PNGs by a few levels where the
FFmpeg builds convert YUV to RGB differently; the sampling positions do not.
"""
import os
import os.path as osp
from typing import List, Optional

import numpy as np

from mmavs.media import (SAMPLE_RATE, read_reference_audio,
                         read_reference_frames, waveform_to_examples)


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
