"""Waveforms: reading WAV files, sample formats, channels, resampling, and
cutting a clip's sound into one window per frame.

Arrays are ``(num_samples, channels)`` (time first, as WAV files and PyAV
store them) until :func:`split_windows` turns them into the per-frame layout
``(T, A, S)`` of ``docs/en/architecture.md``.
"""
import os.path as osp
from math import gcd
from typing import Optional, Tuple

import numpy as np

from .errors import MediaError

PAD_MODES = ('tile', 'zero', 'error')
CROP_MODES = ('start', 'centre')


def to_float(waveform: np.ndarray) -> np.ndarray:
    """Any PCM to float64; integers are scaled to [-1, 1).

    Signed integers are divided by ``2**(bits - 1)`` (int16 by 32768), as the
    VGGish front end does; unsigned 8-bit WAV is centred on 128 first.
    """
    data = np.asarray(waveform)
    if data.dtype == np.uint8:
        return (data.astype(np.float64) - 128.0) / 128.0
    if np.issubdtype(data.dtype, np.integer):
        return data / float(np.iinfo(data.dtype).max + 1)
    return data.astype(np.float64)


def resample(data: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Polyphase resampling along axis 0 (``scipy.signal.resample_poly``).

    Returns ``data`` itself when the rates agree.
    """
    if int(rate) == int(target):
        return data
    from scipy.signal import resample_poly
    divisor = gcd(int(rate), int(target))
    return resample_poly(data, int(target) // divisor,
                         int(rate) // divisor, axis=0)


def read_wav(path: str) -> Tuple[np.ndarray, int]:
    """Read a WAV file as it is stored.

    Returns:
        tuple: The samples ``(num_samples, channels)`` in the file's sample
        format (int16 PCM stays int16) and the sample rate in Hz.

    Raises:
        MediaError: The file is missing, not a readable WAV, or empty.
    """
    if not osp.isfile(path):
        raise MediaError(path, 'audio file not found')
    from scipy.io import wavfile
    try:
        rate, data = wavfile.read(path)
    except (ValueError, OSError, EOFError) as err:
        raise MediaError(path, f'cannot read WAV audio: {err}') from err
    data = np.asarray(data)
    if data.ndim == 1:
        data = data[:, None]
    if data.shape[0] == 0:
        raise MediaError(path, 'the WAV file holds no samples')
    return data, int(rate)


def select_channels(data: np.ndarray, channels: int,
                    path: Optional[str] = None) -> np.ndarray:
    """Mix ``(S, C)`` float audio to mono, or check it has ``channels``.

    Args:
        data: ``(num_samples, channels)`` float.
        channels: 1 for the mean of all channels; otherwise the file must
            have exactly this many (stereo is never made up from mono: the
            left/right balance is the signal a stereo model reads).
        path: The file, for the error message.

    Raises:
        MediaError: ``channels > 1`` and the audio has another count.
    """
    if channels == 1:
        return data.mean(axis=1, keepdims=True)
    if data.shape[1] != channels:
        raise MediaError(
            path, f'has {data.shape[1]} audio channel(s), {channels} '
            f'requested (set channels=1 to mix it to mono)')
    return data


def fit_length(data: np.ndarray, length: int, crop: str = 'start',
               pad: str = 'tile', path: Optional[str] = None) -> np.ndarray:
    """Cut or extend ``(S, C)`` audio to exactly ``length`` samples.

    Args:
        data: ``(num_samples, channels)``.
        length: Samples wanted.
        crop: Longer audio keeps its ``'start'`` or its ``'centre'``
            (first sample ``S // 2 - length // 2``, CAVP's centre crop).
        pad: Shorter audio is ``'tile'``\\ d (repeated from its start, then
            cut; CAVP), ``'zero'``-padded at the end, or an ``'error'``.
        path: The file, for the error message.

    Raises:
        MediaError: ``pad='error'`` and the audio is shorter than ``length``.
    """
    if crop not in CROP_MODES:
        raise ValueError(f'crop must be one of {CROP_MODES}, got {crop!r}')
    if pad not in PAD_MODES:
        raise ValueError(f'pad must be one of {PAD_MODES}, got {pad!r}')
    num = data.shape[0]
    if num >= length:
        start = 0 if crop == 'start' else num // 2 - length // 2
        return data[start:start + length]
    if pad == 'error':
        raise MediaError(path, f'has {num} samples of audio, shorter than '
                         f'the {length} needed')
    if pad == 'zero':
        return np.concatenate(
            [data, np.zeros((length - num, ) + data.shape[1:], data.dtype)])
    reps = -(-length // num)
    return np.concatenate([data] * reps)[:length]


def split_windows(data: np.ndarray, num_windows: int, window: int,
                  hop: int) -> np.ndarray:
    """``(S, A)`` audio to ``num_windows`` windows ``(T, A, window)``.

    Window ``t`` holds samples ``[t * hop, t * hop + window)``; ``data`` must
    be long enough (see :func:`fit_length`).
    """
    needed = (num_windows - 1) * hop + window
    if data.shape[0] < needed:
        raise ValueError(f'{data.shape[0]} samples cannot hold {num_windows} '
                         f'windows of {window} every {hop}')
    index = np.arange(num_windows)[:, None] * hop + np.arange(window)
    return np.ascontiguousarray(data[index].transpose(0, 2, 1))
