"""Tests of the VGGish log-mel front end against independent computations.

Every expected value here is derived from the VGGish definition with plain
scalar math or an explicit DFT sum, never through the module's own helpers.
"""
import math

import numpy as np
import pytest

from mmavs.media import vggish_logmel as vl

SR = 16000
WIN = 400
HOP = 160
NFFT = 512
NBINS = NFFT // 2 + 1  # 257
NMEL = 64


def _mel(hz):
    return 1127.0 * math.log(1.0 + hz / 700.0)


def _mel_weight(k, band):
    """Weight of FFT bin ``k`` in mel band ``band``, with scalar math."""
    if k == 0:
        return 0.0
    lo_mel, hi_mel = _mel(125.0), _mel(7500.0)
    step = (hi_mel - lo_mel) / (NMEL + 1)  # 66 edges -> 65 gaps
    lower = lo_mel + band * step
    center = lo_mel + (band + 1) * step
    upper = lo_mel + (band + 2) * step
    m = _mel(k * 8000.0 / 256.0)
    rising = (m - lower) / (center - lower)
    falling = (upper - m) / (upper - center)
    return max(0.0, min(rising, falling))


def _mel_weights_independent():
    return np.array([[_mel_weight(k, b) for b in range(NMEL)]
                     for k in range(NBINS)])


def _tone(freq, seconds, sr, amp=0.5, phase=0.0):
    t = np.arange(int(round(seconds * sr))) / sr
    return amp * np.sin(2 * np.pi * freq * t + phase)


@pytest.mark.parametrize('n', [0, 1, 50, 100, 199, 200, 300, 399])
def test_periodic_hann_values(n):
    expected = 0.5 - 0.5 * math.cos(2 * math.pi * n / 400)
    assert vl.periodic_hann(400)[n] == pytest.approx(expected, abs=1e-12)


def test_periodic_hann_is_periodic_not_symmetric():
    w = vl.periodic_hann(400)
    assert w.shape == (400, )
    assert w[0] == 0.0
    # The periodic window peaks at n = 200 and w[399] != w[0].
    assert w[200] == pytest.approx(1.0)
    assert w[399] > 0


@pytest.mark.parametrize('k,band', [(4, 0), (5, 0), (6, 1), (10, 3), (32, 10),
                                    (33, 10), (100, 40), (200, 60),
                                    (239, 63), (240, 63), (256, 63), (1, 0),
                                    (128, 0), (3, 50)])
def test_mel_matrix_entries(k, band):
    weights = vl.mel_matrix()
    assert weights.shape == (NBINS, NMEL)
    assert weights[k, band] == pytest.approx(_mel_weight(k, band), abs=1e-9)


def test_mel_matrix_whole_and_dc_row():
    weights = vl.mel_matrix()
    np.testing.assert_array_equal(weights[0], 0.0)
    np.testing.assert_allclose(
        weights, _mel_weights_independent(), rtol=0, atol=1e-9)
    # Every band receives weight from at least one bin.
    assert (weights.max(axis=0) > 0).all()


def _signal(seconds=1.2, seed=0):
    rng = np.random.default_rng(seed)
    x = _tone(1000.0, seconds, SR) + 0.05 * rng.standard_normal(
        int(round(seconds * SR)))
    return x


@pytest.mark.parametrize('frame', [0, 7, 60])
def test_log_mel_frame_against_direct_dft(frame):
    x = _signal()
    log_mel = vl.log_mel_spectrogram(x)
    assert log_mel.shape == (1 + (len(x) - WIN) // HOP, NMEL)

    start = HOP * frame
    n = np.arange(WIN)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / WIN)
    seg = x[start:start + WIN] * window
    magnitude = np.empty(NBINS)
    for k in range(NBINS):
        # Explicit DFT sum; samples 400..511 are zero padding and add nothing.
        magnitude[k] = abs(np.sum(seg * np.exp(-2j * np.pi * k * n / NFFT)))
    expected = np.log(magnitude @ _mel_weights_independent() + 0.01)
    np.testing.assert_allclose(log_mel[frame], expected, rtol=0, atol=1e-8)


def test_log_mel_of_silence_is_log_offset():
    log_mel = vl.log_mel_spectrogram(np.zeros(WIN + 2 * HOP))
    assert log_mel.shape == (3, NMEL)
    np.testing.assert_allclose(log_mel, math.log(0.01))


@pytest.mark.parametrize('num_samples', [
    15600,  # the shortest signal with 96 frames: 400 + 95 * 160
    15759,  # still 96 frames
    80000,  # 5 s
    31000,
    47919,
    47920,
])
def test_waveform_to_examples_count(num_samples):
    x = np.random.default_rng(1).uniform(-0.5, 0.5, num_samples)
    examples = vl.waveform_to_examples(x, SR)
    num_frames = 1 + (num_samples - WIN) // HOP
    assert examples.shape == (num_frames // 96, 1, 96, 64)
    assert examples.dtype == np.float32


def test_five_seconds_give_five_examples_of_consecutive_frames():
    x = _signal(seconds=5.0, seed=2)
    examples = vl.waveform_to_examples(x, SR)
    assert examples.shape == (5, 1, 96, 64)
    log_mel = vl.log_mel_spectrogram(x)
    for i in range(5):
        np.testing.assert_allclose(
            examples[i, 0], log_mel[96 * i:96 * (i + 1)].astype(np.float32))


def test_padding_repeats_last_real_example():
    x = _signal(seconds=3.5, seed=3)
    unpadded = vl.waveform_to_examples(x, SR)
    assert len(unpadded) == 3
    examples = vl.waveform_to_examples(x, SR, num_seconds=5)
    assert examples.shape == (5, 1, 96, 64)
    np.testing.assert_array_equal(examples[:3], unpadded)
    np.testing.assert_array_equal(examples[3], examples[2])
    np.testing.assert_array_equal(examples[4], examples[2])
    assert not np.array_equal(examples[1], examples[2])


def test_truncation_keeps_first_examples():
    x = _signal(seconds=7.0, seed=4)
    full = vl.waveform_to_examples(x, SR)
    assert len(full) == 7
    examples = vl.waveform_to_examples(x, SR, num_seconds=5)
    np.testing.assert_array_equal(examples, full[:5])


def test_stereo_is_mono_mean():
    rng = np.random.default_rng(5)
    left = _tone(1000.0, 1.0, SR) + 0.05 * rng.standard_normal(SR)
    right = _tone(2500.0, 1.0, SR, amp=0.3)
    stereo = np.stack([left, right], axis=1)
    np.testing.assert_array_equal(
        vl.waveform_to_examples(stereo, SR),
        vl.waveform_to_examples((left + right) / 2, SR))


def test_int16_is_scaled_by_32768():
    rng = np.random.default_rng(6)
    pcm = rng.integers(-32768, 32768, size=SR, dtype=np.int16)
    np.testing.assert_allclose(
        vl.waveform_to_examples(pcm, SR),
        vl.waveform_to_examples(pcm.astype(np.float64) / 32768.0, SR),
        rtol=0, atol=1e-6)
    stereo_pcm = np.stack([pcm, pcm[::-1]], axis=1)
    mono = (pcm.astype(np.float64) + pcm[::-1].astype(np.float64)) / 2
    np.testing.assert_allclose(
        vl.waveform_to_examples(stereo_pcm, SR),
        vl.waveform_to_examples(mono / 32768.0, SR), rtol=0, atol=1e-6)


def test_resampling_keeps_tone_band():
    at_16k = vl.waveform_to_examples(_tone(1000.0, 2.0, SR), SR)
    at_44k = vl.waveform_to_examples(_tone(1000.0, 2.0, 44100), 44100)
    assert at_16k.shape == at_44k.shape == (2, 1, 96, 64)
    mean_16k = at_16k[:, 0].mean(axis=1)  # (examples, 64)
    mean_44k = at_44k[:, 0].mean(axis=1)
    peak = mean_16k.argmax(axis=1)
    np.testing.assert_array_equal(peak, mean_44k.argmax(axis=1))
    # The 1 kHz tone sits in band 1000 Hz -> mel index around (mel(1000) -
    # mel(125)) / step - 1.
    step = (_mel(7500.0) - _mel(125.0)) / 65
    expected_band = (_mel(1000.0) - _mel(125.0)) / step - 1
    assert abs(int(peak[0]) - expected_band) <= 1
    # Compare interior frames (away from resampler edge effects) on bands
    # holding energy.
    inner_16k = at_16k[:, 0, 5:-5]
    inner_44k = at_44k[:, 0, 5:-5]
    energetic = inner_16k > math.log(0.01) + 3
    assert energetic.any()
    np.testing.assert_allclose(
        inner_44k[energetic], inner_16k[energetic], rtol=0, atol=0.5)


def test_non_16k_integer_rate_other_than_44k():
    # 48 kHz -> 16 kHz is a plain 1/3 decimation.
    examples = vl.waveform_to_examples(_tone(1000.0, 1.0, 48000), 48000)
    assert examples.shape == (1, 1, 96, 64)


@pytest.mark.parametrize('num_samples', [0, 399, 8000, 15359, 15599])
def test_too_short_audio_raises(num_samples):
    # 0.96 s = 15360 samples is not enough either: 96 whole frames need
    # 400 + 95 * 160 = 15600 samples.
    x = np.zeros(num_samples)
    with pytest.raises(ValueError):
        vl.waveform_to_examples(x, SR)


def test_bad_rank_raises():
    with pytest.raises(ValueError):
        vl.waveform_to_examples(np.zeros((2, 2, SR)), SR)
