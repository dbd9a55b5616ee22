import numpy as np
import pytest
import torch
from scipy.io import wavfile

from mmavs.media.errors import MediaError
from mmavs.models.utils.offscreen_noise import (NoiseList, mix_magnitudes,
                                                pick_offscreen_partners)


def test_ratio_target_in_unit_interval_and_one_without_noise():
    gen = torch.Generator().manual_seed(0)
    spec = torch.rand(2, 2, 5, 4, generator=gen)
    spec[0, 0, 0] = 0  # silent bins
    noise = torch.rand(2, 2, 5, 4, generator=gen) * 3
    mixed, ratio = mix_magnitudes(spec, noise)
    torch.testing.assert_close(mixed, spec + noise)
    assert ratio.min() >= 0 and ratio.max() <= 1
    torch.testing.assert_close(ratio[1], spec[1] / (spec[1] + noise[1]))
    mixed, ratio = mix_magnitudes(spec, torch.zeros_like(spec))
    assert torch.equal(ratio, torch.ones_like(ratio))
    torch.testing.assert_close(mixed, spec)
    _, half = mix_magnitudes(spec + 0.1, spec + 0.1)
    torch.testing.assert_close(half, torch.full_like(half, 0.5))
    with pytest.raises(ValueError, match='shape'):
        mix_magnitudes(spec, noise[:1])


def test_partners_disjoint_when_possible():
    sets = [{1}, {1, 2}, {3}, {2}, set()]
    for seed in range(20):
        partners = pick_offscreen_partners(
            sets, torch.Generator().manual_seed(seed))
        assert partners.dtype == torch.long and partners.shape == (5, )
        for i, j in enumerate(partners.tolist()):
            assert j != i and 0 <= j < 5
            # Each sample has 2+ disjoint partners among 4: 10 draws find
            # one with probability > 0.999; seeds 0-19 all do.
            assert not sets[i] & sets[j], (seed, i, j)
    again = pick_offscreen_partners(sets, torch.Generator().manual_seed(3))
    torch.testing.assert_close(
        again, pick_offscreen_partners(sets,
                                       torch.Generator().manual_seed(3)))


def test_partners_without_a_disjoint_sample_and_single_sample():
    partners = pick_offscreen_partners([{1}, {1}, {1, 2}])
    assert all(j != i for i, j in enumerate(partners.tolist()))
    assert pick_offscreen_partners([{4}]).tolist() == [-1]
    assert pick_offscreen_partners([]).numel() == 0


def write_wav(path, seconds, rate, channels):
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.5 * np.sin(2 * np.pi * 440 * t)
    pcm = (np.repeat(wave[:, None], channels, axis=1) * 32767).astype(
        np.int16)
    wavfile.write(str(path), rate, pcm.squeeze())


def test_noise_list(tmp_path):
    write_wav(tmp_path / 'a.wav', 0.5, 8000, 1)
    write_wav(tmp_path / 'b.wav', 2.0, 16000, 2)
    (tmp_path / 'list.txt').write_text('a.wav\n\nb.wav\n')
    noise = NoiseList(str(tmp_path / 'list.txt'), channels=2,
                      num_samples=16000)
    assert len(noise) == 2
    short = noise.load(0)  # mono, 8 kHz, 0.5 s → stereo, tiled to 1 s
    assert short.shape == (2, 16000) and short.dtype == torch.float32
    torch.testing.assert_close(short[0], short[1])
    torch.testing.assert_close(short[:, :8000], short[:, 8000:])
    drawn = noise.draw(torch.Generator().manual_seed(0))
    assert drawn.shape == (2, 16000)
    torch.testing.assert_close(
        noise.draw(torch.Generator().manual_seed(0)), drawn)
    mono = NoiseList([str(tmp_path / 'b.wav')], channels=1, num_samples=800)
    assert mono.load(0).shape == (1, 800)
    with pytest.raises(MediaError, match='not found'):
        NoiseList([str(tmp_path / 'missing.wav')])
    with pytest.raises(MediaError, match='not found'):
        NoiseList(str(tmp_path / 'nothing.txt'))
