"""SpectrogramFrontEnd against a spectrogram computed here with numpy.

The reference below follows the definition of cavp.md §2 (torchaudio's
``MelSpectrogram``) step by step: reflect padding by n_fft/2, frames every
hop, a periodic Hann of 400 samples centred in 512, ``numpy.fft.rfft``, HTK
mel triangles drawn in Hz with scalar formulas, then CAVP's dB and /100.
"""
import math

import numpy as np
import pytest
import torch

from mmavs.models import SpectrogramFrontEnd

SR, NFFT, WIN, HOP, NMEL, FMIN, FMAX = 16000, 512, 400, 160, 64, 125., 3800.


def reference_mel(signal, power=2.0):
    """``(T, 64)`` mel spectrogram of a 1-D float64 signal."""
    pad = NFFT // 2
    padded = np.pad(signal, pad, mode='reflect')
    hann = np.array([0.5 - 0.5 * math.cos(2 * math.pi * n / WIN)
                     for n in range(WIN)])
    window = np.zeros(NFFT)
    window[(NFFT - WIN) // 2:(NFFT - WIN) // 2 + WIN] = hann
    num_frames = 1 + (len(padded) - NFFT) // HOP
    spec = np.stack([
        np.abs(np.fft.rfft(padded[t * HOP:t * HOP + NFFT] * window))**power
        for t in range(num_frames)
    ])  # (T, 257)

    def mel(f):
        return 2595 * math.log10(1 + f / 700)

    def hz(m):
        return 700 * (10**(m / 2595) - 1)

    lo, hi = mel(FMIN), mel(FMAX)
    edges = [hz(lo + (hi - lo) * i / (NMEL + 1)) for i in range(NMEL + 2)]
    weights = np.zeros((NFFT // 2 + 1, NMEL))
    for k in range(NFFT // 2 + 1):
        f = k * (SR / 2) / (NFFT // 2)
        for m in range(NMEL):
            left, centre, right = edges[m], edges[m + 1], edges[m + 2]
            rise = (f - left) / (centre - left)
            fall = (right - f) / (right - centre)
            weights[k, m] = max(0.0, min(rise, fall))
    return spec @ weights


def cavp_log(mel):
    return 20 * np.log10(np.maximum(mel, 1e-5)) / 100


def test_matches_an_independent_computation_mono_and_stereo():
    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    left = 0.3 * np.sin(2 * np.pi * 440 * t) + rng.normal(0, 0.05, SR)
    right = 0.2 * np.sin(2 * np.pi * 1500 * t) + rng.normal(0, 0.02, SR)
    wave = np.stack([np.stack([left, right]),
                     np.stack([right, left])])  # (N=2, A=2, S)
    front = SpectrogramFrontEnd(num_frames=96)
    out = front(torch.from_numpy(wave).float())
    assert out.shape == (2, 2, 96, 64) and out.dtype == torch.float32
    for n in range(2):
        for a in range(2):
            expected = cavp_log(reference_mel(wave[n, a]))[:96]
            assert np.abs(out[n, a].numpy() - expected).max() <= 1e-4
    # Mono: one channel in, one out, the same numbers as that channel.
    mono = front(torch.from_numpy(wave[:, :1]).float())
    assert mono.shape == (2, 1, 96, 64)
    assert torch.allclose(mono[:, 0], out[:, 0], atol=1e-6)


def test_cpm_magnitude_log_and_all_frames():
    rng = np.random.default_rng(1)
    wave = rng.normal(0, 0.1, (1, 1, 4000))
    front = SpectrogramFrontEnd(power=1.0, log='log', scale=1.0)
    out = front(torch.from_numpy(wave).float())
    assert out.shape == (1, 1, 1 + 4000 // HOP, 64)
    expected = np.log(reference_mel(wave[0, 0], power=1.0) + 1e-5)
    assert np.abs(out[0, 0].numpy() - expected).max() <= 1e-4


def test_three_second_clip_keeps_300_frames_and_no_weights():
    front = SpectrogramFrontEnd(num_frames=300)
    out = front(torch.zeros(1, 2, 3 * SR))
    assert out.shape == (1, 2, 300, 64)
    # Silence sits at the floor: 20 log10(1e-5) / 100.
    assert torch.allclose(out, torch.full_like(out, -1.0))
    assert list(front.parameters()) == [] and front.state_dict() == {}


def test_runs_in_float32_under_bf16_autocast():
    front = SpectrogramFrontEnd(num_frames=96)
    wave = torch.randn(2, 1, SR) * 0.1
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = front(wave)
    assert out.dtype == torch.float32
    assert torch.allclose(out, front(wave))


def test_clear_errors():
    front = SpectrogramFrontEnd(num_frames=96)
    with pytest.raises(ValueError, match=r'\(N, A, S\)'):
        front(torch.zeros(2, SR))
    with pytest.raises(ValueError, match='fewer than num_frames=96'):
        front(torch.zeros(1, 1, SR // 2))
    with pytest.raises(ValueError, match='log must be one of'):
        SpectrogramFrontEnd(log='ln')
