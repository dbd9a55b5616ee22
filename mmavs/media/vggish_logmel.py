"""The VGGish log-mel front end, in numpy.

Follows the arithmetic of the original VGGish input pipeline, which AVSBench used
to make its ``.pkl`` features: mono 16 kHz audio; 25 ms periodic-Hann frames with
a 10 ms hop and no padding; magnitude of a 512-point real FFT; an HTK-style mel
matrix of 64 bands between 125 and 7500 Hz whose DC row is zero;
``log(mel + 0.01)``; non-overlapping 96-frame (0.96 s) examples. AVSBench then
pads a clip to its length in seconds by repeating the last example.
"""
from typing import Optional

import numpy as np

from .errors import MediaError
from .waveform import resample, to_float

SAMPLE_RATE = 16000
WINDOW_SECONDS = 0.025
HOP_SECONDS = 0.010
NUM_MEL_BINS = 64
MEL_MIN_HZ = 125.0
MEL_MAX_HZ = 7500.0
LOG_OFFSET = 0.01
EXAMPLE_FRAMES = 96
EXAMPLE_SHAPE = (1, EXAMPLE_FRAMES, NUM_MEL_BINS)
# Samples one example reads at 16 kHz: a 25 ms window and 95 hops.
EXAMPLE_SAMPLES = int(round(SAMPLE_RATE * WINDOW_SECONDS)) + \
    (EXAMPLE_FRAMES - 1) * int(round(SAMPLE_RATE * HOP_SECONDS))
MIN_AUDIO_SECONDS = EXAMPLE_SAMPLES / SAMPLE_RATE  # 0.975 s


def frame_signal(data: np.ndarray, window: int, hop: int) -> np.ndarray:
    """Split ``data`` along axis 0 into ``(num_frames, window, ...)`` frames.

    Only whole frames are kept (no padding), as in VGGish.
    """
    num_frames = 1 + (data.shape[0] - window) // hop
    if num_frames <= 0:
        return np.zeros((0, window) + data.shape[1:], dtype=data.dtype)
    index = np.arange(window)[None, :] + hop * np.arange(num_frames)[:, None]
    return data[index]


def periodic_hann(length: int) -> np.ndarray:
    """Hann window of period ``length`` (not the symmetric one)."""
    return 0.5 - 0.5 * np.cos(2 * np.pi / length * np.arange(length))


def hertz_to_mel(hertz: np.ndarray) -> np.ndarray:
    """HTK mel scale."""
    return 1127.0 * np.log(1.0 + np.asarray(hertz) / 700.0)


def mel_matrix(num_spectrogram_bins: int = 257,
               sample_rate: int = SAMPLE_RATE,
               num_mel_bins: int = NUM_MEL_BINS,
               lower_hz: float = MEL_MIN_HZ,
               upper_hz: float = MEL_MAX_HZ) -> np.ndarray:
    """Triangular mel weights, shape ``(num_spectrogram_bins, num_mel_bins)``.

    Triangles are built in the mel domain over linearly spaced FFT bin centres
    from 0 Hz to Nyquist; the DC bin gets no weight.
    """
    bins_mel = hertz_to_mel(
        np.linspace(0.0, sample_rate / 2.0, num_spectrogram_bins))
    edges = np.linspace(
        hertz_to_mel(lower_hz), hertz_to_mel(upper_hz), num_mel_bins + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins_mel[:, None] - lower) / (center - lower)
    falling = (upper - bins_mel[:, None]) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights[0, :] = 0.0
    return weights


def log_mel_spectrogram(samples: np.ndarray,
                        sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Log-mel frames of a mono signal, shape ``(num_frames, 64)``."""
    window = int(round(sample_rate * WINDOW_SECONDS))
    hop = int(round(sample_rate * HOP_SECONDS))
    fft_length = 2**int(np.ceil(np.log2(window)))
    frames = frame_signal(samples, window, hop) * periodic_hann(window)
    magnitude = np.abs(np.fft.rfft(frames, fft_length))
    mel = magnitude @ mel_matrix(fft_length // 2 + 1, sample_rate)
    return np.log(mel + LOG_OFFSET)


def to_mono_16k(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """Average channels and resample to 16 kHz.

    Args:
        waveform: ``(num_samples,)`` or ``(num_samples, num_channels)``; integer
            PCM is scaled to [-1, 1].
        sample_rate: Sample rate of ``waveform`` in Hz.
    """
    data = to_float(waveform)
    if data.ndim == 2:
        data = data.mean(axis=1)
    elif data.ndim != 1:
        raise ValueError('waveform must be (num_samples,) or '
                         f'(num_samples, num_channels), got {data.shape}')
    return resample(data, sample_rate, SAMPLE_RATE)
    return data


def waveform_to_examples(waveform: np.ndarray,
                         sample_rate: int,
                         num_seconds: Optional[int] = None) -> np.ndarray:
    """Waveform to VGGish examples, shape ``(N, 1, 96, 64)`` float32.

    Args:
        waveform: ``(num_samples,)`` mono or ``(num_samples, channels)``, float
            in [-1, 1] or integer PCM, at any sample rate.
        sample_rate: Sample rate in Hz.
        num_seconds: When given, return exactly this many examples: the first
            ones, with the last example repeated when there are fewer (the
            AVSBench convention).

    Raises:
        MediaError: The audio is shorter than one example (0.975 s).
    """
    samples = to_mono_16k(waveform, sample_rate)
    log_mel = log_mel_spectrogram(samples)
    examples = frame_signal(log_mel, EXAMPLE_FRAMES, EXAMPLE_FRAMES)
    if len(examples) == 0:
        raise MediaError(
            None, f'audio of {len(samples) / SAMPLE_RATE:.3f} s is too short: '
            f'one VGGish example (96 frames) needs {MIN_AUDIO_SECONDS:.3f} s')
    if num_seconds is not None:
        examples = examples[:num_seconds]
        if len(examples) < num_seconds:
            pad = np.repeat(examples[-1:], num_seconds - len(examples), axis=0)
            examples = np.concatenate([examples, pad], axis=0)
    return examples[:, None].astype(np.float32)
