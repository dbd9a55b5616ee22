"""On-the-fly audio: a clip's WAV file cut into one waveform window per frame,
and the VGGish log-mel made from it as the precomputed features are.

Two pipelines give the per-frame audio of ``docs/en/architecture.md``:

- precomputed: ``LoadAVSAudio`` reads ``audio_log_mel/*.npy|pkl``
  → ``audio`` ``(T, 1, 96, 64)``;
- on the fly: ``LoadAudioWaveform`` reads ``audio_wav/*.wav``
  → ``audio`` ``(T, A, S)`` for a front end in the model
  (``AudioVisualBackbone(audio_frontend=...)``), optionally followed by
  ``WaveformToLogMel`` → ``audio`` ``(T, 1, 96, 64)``, equal to the
  precomputed features of the same WAV.
"""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from mmavs.media import (EXAMPLE_SHAPE, MIN_AUDIO_SECONDS, MediaError,
                         fit_length, read_wav, resample, select_channels,
                         split_windows, to_float, waveform_to_examples)

LOG_MEL_PADS = ('repeat', 'zero')


@TRANSFORMS.register_module()
class LoadAudioWaveform(BaseTransform):
    """Read a clip's WAV and cut it into one window per frame.

    Steps: read the file (:func:`~mmavs.media.waveform.read_wav`); integer
    PCM to float; mix to mono (``channels=1``) or check the channel count;
    resample to ``sample_rate``; when ``clip_seconds`` is set, crop or extend
    the clip to that length first (CAVP: centre crop of 3 s, tiled when
    shorter); cut ``T`` windows of ``window`` seconds every ``hop`` seconds
    from the start, extending the audio by ``pad`` when it is short.

    AVSBench (1 s per frame): the defaults. CAVP on VPO (one 3-s window,
    stereo): ``channels=2, window=3.0, clip_seconds=3.0, crop='centre'``
    with ``num_frames=1``. CAVP on AVSS: ``clip_seconds=10.0,
    crop='centre'``.

    Required keys: ``wav_path`` (``path_key``), ``num_frames`` (T);
    optional ``frame_indices`` with ``clip_num_frames`` (a clip reduced to
    some of its frames: the windows of those frames are cut from the whole
    clip's ``clip_num_frames`` windows).
    Added keys: ``audio`` ``(T, A, S)`` float32, ``S = window *
    sample_rate``; ``waveform`` ``(L, A)`` float32, the whole clip at
    ``sample_rate`` before cropping and padding (read by
    :class:`WaveformToLogMel`); ``audio_sample_rate``.

    Args:
        sample_rate: Output rate in Hz.
        channels: 1 (mono mix of all channels) or the exact channel count
            the file must have (2 for stereo).
        window: Seconds of sound per frame.
        hop: Seconds between frame starts; default ``window``.
        clip_seconds: Crop or extend the whole clip to this length before
            cutting windows; None to start at 0.
        crop: ``'start'`` or ``'centre'`` (for ``clip_seconds``).
        pad: Short audio is ``'tile'``\\ d (repeated), ``'zero'``-padded, or
            an ``'error'``.
        min_seconds: Audio shorter than this is an error whatever ``pad``
            (default 0.975 s: one VGGish example).
        path_key: Results key of the WAV path.

    Raises:
        MediaError: naming the file: missing, unreadable, fewer than
            ``min_seconds`` (or, with ``pad='error'``, than needed), or
            not ``channels`` channels when more than one is asked.
    """

    def __init__(self,
                 sample_rate: int = 16000,
                 channels: int = 1,
                 window: float = 1.0,
                 hop: Optional[float] = None,
                 clip_seconds: Optional[float] = None,
                 crop: str = 'start',
                 pad: str = 'tile',
                 min_seconds: float = MIN_AUDIO_SECONDS,
                 path_key: str = 'wav_path') -> None:
        if channels < 1:
            raise ValueError(f'channels must be >= 1, got {channels}')
        self.sample_rate = sample_rate
        self.channels = channels
        self.window = int(round(window * sample_rate))
        self.hop = self.window if hop is None else \
            int(round(hop * sample_rate))
        self.clip = None if clip_seconds is None else \
            int(round(clip_seconds * sample_rate))
        self.crop, self.pad = crop, pad
        self.min_seconds = min_seconds
        self.path_key = path_key
        fit_length(np.zeros((1, 1)), 1, crop, pad)  # check the names now

    def transform(self, results: dict) -> dict:
        path = results[self.path_key]
        num_frames = results.get('clip_num_frames', results['num_frames'])
        data, rate = read_wav(path)
        wave = select_channels(to_float(data), self.channels, path)
        wave = resample(wave, rate, self.sample_rate)
        seconds = wave.shape[0] / self.sample_rate
        if seconds < self.min_seconds:
            raise MediaError(
                path, f'has {seconds:.3f} s of audio, too short: at least '
                f'{self.min_seconds:.3f} s are needed')
        clip = wave
        if self.clip is not None:
            clip = fit_length(clip, self.clip, self.crop, self.pad, path)
        needed = (num_frames - 1) * self.hop + self.window
        clip = fit_length(clip, max(needed, clip.shape[0]), 'start',
                          self.pad, path)
        windows = split_windows(clip, num_frames, self.window, self.hop)
        if 'clip_num_frames' in results:
            windows = windows[list(results['frame_indices'])]
        results['audio'] = windows.astype(np.float32)
        results['waveform'] = wave.astype(np.float32)
        results['audio_sample_rate'] = self.sample_rate
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(sample_rate={self.sample_rate}, '
                f'channels={self.channels}, window={self.window}, '
                f'hop={self.hop}, clip={self.clip}, crop={self.crop!r}, '
                f'pad={self.pad!r})')


@TRANSFORMS.register_module()
class WaveformToLogMel(BaseTransform):
    """The VGGish log-mel of the clip read by :class:`LoadAudioWaveform`.

    Computes what the preparation tool stores (``audio_log_mel/*.npy``) from
    the same WAV: the clip averaged to mono, resampled to 16 kHz, VGGish
    log-mel examples of 0.96 s from the clip's start
    (:func:`~mmavs.media.vggish_logmel.waveform_to_examples`), one per frame.
    For a 16 kHz 16-bit WAV (what the preparation tool writes) the result is
    bit-identical to the precomputed features.

    Required keys: ``waveform`` ``(L, A)``, ``audio_sample_rate``,
    ``num_frames`` (T).
    Modified keys: ``audio`` → ``(T, 1, 96, 64)`` float32.

    Args:
        pad: A clip with fewer than T examples ``'repeat'``\\ s its last
            one (AVSBench-object, the default) or is filled with
            ``'zero'`` examples (AVSS, ``avss.md`` §4); more than T are
            truncated.
        path_key: Results key of the WAV path, for error messages.

    Raises:
        MediaError: The clip is shorter than one example (0.975 s).
    """

    def __init__(self, pad: str = 'repeat',
                 path_key: str = 'wav_path') -> None:
        if pad not in LOG_MEL_PADS:
            raise ValueError(f'pad must be one of {LOG_MEL_PADS}, '
                             f'got {pad!r}')
        self.pad = pad
        self.path_key = path_key

    def transform(self, results: dict) -> dict:
        num_frames = results.get('clip_num_frames', results['num_frames'])
        try:
            examples = waveform_to_examples(
                results['waveform'], results['audio_sample_rate'],
                num_frames if self.pad == 'repeat' else None)
        except MediaError as err:
            raise MediaError(results.get(self.path_key), err.problem) \
                from err
        if self.pad == 'zero':
            filled = np.zeros((num_frames, ) + EXAMPLE_SHAPE, np.float32)
            filled[:len(examples)] = examples[:num_frames]
            examples = filled
        if 'clip_num_frames' in results:
            examples = examples[list(results['frame_indices'])]
        results['audio'] = examples
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(pad={self.pad!r})'
