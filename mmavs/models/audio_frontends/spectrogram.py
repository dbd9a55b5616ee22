"""Waveform → (log) mel spectrogram, in torch, for trainable audio encoders."""
from typing import Optional

import numpy as np
import torch
from mmseg.registry import MODELS
from torch import Tensor, nn

LOG_MODES = ('db', 'log', None)


def htk_mel(hertz: np.ndarray) -> np.ndarray:
    """HTK mel scale, ``2595 log10(1 + f / 700)``."""
    return 2595.0 * np.log10(1.0 + np.asarray(hertz, dtype=np.float64) / 700.0)


def mel_filterbank(num_bins: int, sample_rate: int, n_mels: int,
                   f_min: float, f_max: float) -> np.ndarray:
    """HTK triangular filters without normalisation, ``(num_bins, n_mels)``.

    The construction of ``torchaudio.functional.melscale_fbanks`` with
    ``norm=None, mel_scale='htk'``: band edges equally spaced in mel, the
    triangles drawn in Hz over the FFT bin frequencies ``linspace(0, sr/2)``.
    (VGGish draws its triangles in mel and zeroes DC:
    :func:`mmavs.media.vggish_logmel.mel_matrix`.)
    """
    freqs = np.linspace(0.0, sample_rate // 2, num_bins)
    edges_mel = np.linspace(htk_mel(f_min), htk_mel(f_max), n_mels + 2)
    edges = 700.0 * (10.0**(edges_mel / 2595.0) - 1.0)
    widths = np.diff(edges)
    slopes = edges[None, :] - freqs[:, None]
    down = -slopes[:, :-2] / widths[:-1]
    up = slopes[:, 2:] / widths[1:]
    return np.maximum(0.0, np.minimum(down, up))


@MODELS.register_module()
class SpectrogramFrontEnd(nn.Module):
    """Per-frame waveforms to mel spectrograms, channel by channel.

    Shapes (``docs/en/architecture.md``): ``(N, A, S)`` waveform windows, one
    per frame, ``A`` = 1 (mono) or 2 (stereo) → ``(N, A, T, F)``: ``T`` time
    frames, ``F = n_mels`` bands; channels stay separate (a stereo model reads
    the balance between them).

    The defaults are CAVP's (``cavp.md`` §2): ``torchaudio``'s
    ``MelSpectrogram(sample_rate=16000, n_fft=512, win_length=400,
    hop_length=160, n_mels=64, f_min=125, f_max=3800)`` (power 2, centred
    with reflect padding, periodic Hann of 400 samples centred in the 512
    FFT, HTK mel, no norm), then ``20 log10(max(x, 1e-5))`` (``db_scale=20``
    on a power spectrogram, a quirk kept for weight compatibility) and
    ``x / 100`` (CAVP's ``2 (x + 100) / 200 - 1``). CAVP keeps the first 300
    frames of 3-s audio and 96 of 1-s audio: set ``num_frames``. CPM
    (``cpm.md`` §2): ``power=1, log='log', amin=1e-5, scale=1``, i.e.
    ``log(S + 1e-5)``.

    The computation runs in float32 with autocast off (STFTs in half
    precision lose the quiet bands).

    Args:
        sample_rate: Hz of the input.
        n_fft, win_length, hop_length: STFT geometry in samples.
        n_mels, f_min, f_max: Mel bands and their range in Hz.
        power: 2 for power, 1 for magnitude.
        center: Pad ``n_fft // 2`` on both sides (``pad_mode``) so that frame
            ``t`` is centred on sample ``t * hop_length``.
        pad_mode: ``torch.stft``'s padding when ``center``.
        num_frames: Keep the first ``num_frames`` time frames (None: all);
            shorter input raises.
        log: ``'db'`` (``db_scale * log10(max(x, amin))``), ``'log'``
            (``log(x + amin)``) or None (linear).
        db_scale: 20 (CAVP) or 10 (true dB of a power spectrogram).
        amin: Floor (``'db'``) or offset (``'log'``).
        scale: Factor applied last (CAVP: 0.01).
    """

    def __init__(self,
                 sample_rate: int = 16000,
                 n_fft: int = 512,
                 win_length: int = 400,
                 hop_length: int = 160,
                 n_mels: int = 64,
                 f_min: float = 125.0,
                 f_max: float = 3800.0,
                 power: float = 2.0,
                 center: bool = True,
                 pad_mode: str = 'reflect',
                 num_frames: Optional[int] = None,
                 log: Optional[str] = 'db',
                 db_scale: float = 20.0,
                 amin: float = 1e-5,
                 scale: float = 0.01) -> None:
        super().__init__()
        if log not in LOG_MODES:
            raise ValueError(f'log must be one of {LOG_MODES}, got {log!r}')
        if win_length > n_fft:
            raise ValueError(f'win_length {win_length} > n_fft {n_fft}')
        self.sample_rate = sample_rate
        self.n_fft, self.win_length, self.hop_length = \
            n_fft, win_length, hop_length
        self.n_mels = n_mels
        self.power, self.center, self.pad_mode = power, center, pad_mode
        self.num_frames = num_frames
        self.log, self.db_scale, self.amin, self.scale = \
            log, db_scale, amin, scale
        # Derived constants: not saved in checkpoints.
        self.register_buffer(
            'window', torch.hann_window(win_length, periodic=True,
                                        dtype=torch.float32),
            persistent=False)
        fbank = mel_filterbank(n_fft // 2 + 1, sample_rate, n_mels, f_min,
                               f_max)
        self.register_buffer(
            'fbank', torch.from_numpy(fbank).float(), persistent=False)

    def forward(self, wave: Tensor) -> Tensor:
        """``(N, A, S)`` waveforms → ``(N, A, T, n_mels)``.

        Raises:
            ValueError: ``wave`` is not 3-D, or gives fewer than
                ``num_frames`` frames.
        """
        if wave.dim() != 3:
            raise ValueError(
                'SpectrogramFrontEnd expects waveforms (N, A, S) (frames, '
                f'channels, samples), got {tuple(wave.shape)}')
        num, channels, length = wave.shape
        with torch.autocast(wave.device.type, enabled=False):
            spec = torch.stft(
                wave.reshape(num * channels, length).float(), self.n_fft,
                hop_length=self.hop_length, win_length=self.win_length,
                window=self.window, center=self.center,
                pad_mode=self.pad_mode, return_complex=True)
            spec = spec.abs().pow(self.power)  # (N*A, n_fft/2+1, T)
            mel = torch.matmul(spec.transpose(1, 2), self.fbank)  # (.., T, F)
            if self.num_frames is not None:
                if mel.shape[1] < self.num_frames:
                    raise ValueError(
                        f'{length} samples give {mel.shape[1]} spectrogram '
                        f'frames, fewer than num_frames={self.num_frames}')
                mel = mel[:, :self.num_frames]
            if self.log == 'db':
                mel = self.db_scale * torch.log10(mel.clamp(min=self.amin))
            elif self.log == 'log':
                mel = torch.log(mel + self.amin)
            mel = mel * self.scale
        return mel.reshape(num, channels, *mel.shape[1:])
