import pytest
import torch
from mmseg.registry import MODELS

import mmavs.models  # noqa: F401
from mmavs.structures import ClipLayout

VISUAL = dict(type='ResNet', depth=18, base_channels=8, out_indices=(0, 1, 2, 3))


def build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(type='AudioVisualBackbone', visual=VISUAL,
                             **kwargs))


def test_outputs_per_frame():
    backbone = build()
    visual, audio = backbone(torch.randn(4, 3, 64, 64),
                             torch.randn(4, 1, 96, 64))
    assert [v.shape[1:] for v in visual] == [(8, 16, 16), (16, 8, 8),
                                             (32, 4, 4), (64, 2, 2)]
    assert audio.shape == (4, 128) and (audio >= 0).all()


def test_audio_must_match_frames():
    with pytest.raises(ValueError, match='does not match 4 frames'):
        build()(torch.randn(4, 3, 64, 64), torch.randn(2, 1, 96, 64))


def test_padding_frames_get_a_zero_audio_feature():
    """AVSS pads clips with frames whose audio feature is zeroed."""
    backbone = build()
    layout = ClipLayout(
        num_frames=torch.tensor([3]), clip_index=torch.zeros(3).long(),
        frame_index=torch.arange(3),
        frame_valid=torch.tensor([True, True, False]),
        annotated=torch.tensor([True, False, False]))
    _, audio = backbone(torch.randn(3, 3, 64, 64), torch.randn(3, 1, 96, 64),
                        layout)
    assert (audio[2] == 0).all() and (audio[:2] != 0).any()


def test_audio_cache_gives_same_features_and_skips_the_encoder():
    plain, cached = build(), build(cache_audio=True)
    cached.load_state_dict(plain.state_dict())
    calls = []
    cached.audio.register_forward_hook(lambda m, i, o: calls.append(len(o)))
    examples = torch.randn(3, 1, 96, 64)
    batch = torch.cat([examples, examples[:1]])  # a repeat inside the batch
    expected = plain.encode_audio(batch)
    assert torch.allclose(cached.encode_audio(batch), expected)
    assert torch.allclose(cached.encode_audio(batch.flip(0)),
                          expected.flip(0))
    assert calls == [3]  # only the first call ran VGGish, on 3 examples
    assert 'audio_cache' not in str(list(cached.state_dict()))


def test_audio_cache_copies_the_batch_to_the_host_once(monkeypatch):
    """One device-to-host copy per batch (one GPU sync), not one per
    example; counted through Tensor.cpu on the CPU."""
    cached = build(cache_audio=True)
    copies = []
    original = torch.Tensor.cpu

    def counting_cpu(self, *args, **kwargs):
        copies.append(tuple(self.shape))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, 'cpu', counting_cpu)
    cached.encode_audio(torch.randn(4, 1, 96, 64))
    assert copies == [(4, 1, 96, 64)]


def test_audio_cache_needs_a_frozen_encoder():
    with pytest.raises(ValueError, match='frozen audio encoder'):
        build(audio=dict(type='VGGish', frozen=False), cache_audio=True)


def test_audio_norm_standardises_the_cached_features_and_trains():
    backbone = build(cache_audio=True, audio_norm=dict(type='BN1d'))
    backbone.train()
    audio = torch.randn(8, 1, 96, 64)
    _, feat = backbone(torch.randn(8, 3, 64, 64), audio)
    raw = backbone.encode_audio(audio)
    # Batch statistics in training: per-channel standardisation.
    expected = (raw - raw.mean(0)) / (raw.var(0, unbiased=False) + 1e-5).sqrt()
    assert torch.allclose(feat, expected, atol=1e-5)
    feat.sum().backward()
    assert backbone.audio_norm.weight.grad is not None
    assert all(p.grad is None for p in backbone.audio.parameters())
    assert 'audio_norm.running_mean' in backbone.state_dict()


def test_audio_frontend_and_resnet_encoder_on_waveforms():
    backbone = build(
        audio_frontend=dict(type='SpectrogramFrontEnd', num_frames=96),
        audio=dict(type='AudioResNet', in_channels=2, base_channels=8),
        audio_channels=64, audio_norm=dict(type='BN1d'))
    backbone.train()
    waves = torch.randn(4, 2, 16000) * 0.1  # (N, A, S), stereo
    _, feat = backbone(torch.randn(4, 3, 64, 64), waves)
    assert feat.shape == (4, 64)
    feat.sum().backward()
    assert backbone.audio.conv1.weight.grad is not None
    assert backbone.state_dict().keys() == build(
        audio=dict(type='AudioResNet', in_channels=2, base_channels=8),
        audio_channels=64, audio_norm=dict(type='BN1d')).state_dict().keys()


def test_vggish_frontend_on_waveforms_equals_precomputed_log_mel():
    plain = build()
    with_frontend = build(audio_frontend=dict(type='VGGishLogMelFrontEnd'))
    waves = torch.randn(2, 1, 16000) * 0.1
    log_mel = with_frontend.audio_frontend(waves)
    frames = torch.randn(2, 3, 64, 64)
    _, expected = plain(frames, log_mel)
    _, feat = with_frontend(frames, waves)
    assert torch.allclose(feat, expected)


def test_audio_cache_with_a_frontend():
    backbone = build(audio_frontend=dict(type='VGGishLogMelFrontEnd'),
                     cache_audio=True)
    waves = torch.randn(3, 1, 16000) * 0.1
    assert torch.allclose(backbone.encode_audio(waves),
                          backbone.embed_audio(waves))
    with pytest.raises(ValueError, match='frozen audio encoder'):
        build(audio_frontend=dict(type='SpectrogramFrontEnd'),
              audio=dict(type='AudioResNet', base_channels=8),
              cache_audio=True)


def test_no_audio_encoder_passes_the_front_end_output():
    """CPM: magnitude spectrograms reach the head unencoded; padding frames
    get zero magnitudes."""
    backbone = build(audio=None,
                     audio_frontend=dict(type='SpectrogramFrontEnd',
                                         num_frames=96, power=1.0, log=None,
                                         scale=1.0))
    assert not list(backbone.audio.parameters())
    layout = ClipLayout(
        num_frames=torch.tensor([3]), clip_index=torch.zeros(3).long(),
        frame_index=torch.arange(3),
        frame_valid=torch.tensor([True, True, False]),
        annotated=torch.tensor([True, False, False]))
    waves = torch.randn(3, 2, 16000) * 0.1
    _, spec = backbone(torch.randn(3, 3, 64, 64), waves, layout)
    assert spec.shape == (3, 2, 96, 64)
    assert (spec[:2] > 0).any() and (spec[:2] >= 0).all()
    assert (spec[2] == 0).all()
    torch.testing.assert_close(spec[:2],
                               backbone.audio_frontend(waves[:2]))
