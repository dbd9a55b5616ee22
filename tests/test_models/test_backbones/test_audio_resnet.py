"""AudioResNet: shapes, gradients, and the one ``frozen`` option."""
import pytest
import torch
from mmseg.registry import MODELS

import mmavs.models  # noqa: F401


def build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(type='AudioResNet', **kwargs))


@pytest.mark.parametrize('channels', [1, 2])
def test_spectrogram_to_one_vector_per_frame(channels):
    encoder = build(in_channels=channels, base_channels=8)
    out = encoder(torch.randn(3, channels, 96, 64))
    assert out.shape == (3, 64) and encoder.out_channels == 64
    # Global max pooling: every value is the maximum of a non-negative map.
    assert (out >= 0).all()


def test_resnet18_defaults_width_and_stem():
    encoder = build()
    assert encoder.out_channels == 512
    assert encoder.conv1.weight.shape == (64, 1, 7, 7)
    assert encoder.conv1.stride == (2, 2)
    assert encoder.fc is None
    projected = build(in_channels=2, out_channels=304, base_channels=8)
    assert projected(torch.randn(2, 2, 96, 64)).shape == (2, 304)


def test_trainable_by_default_gradients_reach_the_stem():
    encoder = build(base_channels=8, out_channels=4)
    encoder.train()
    assert encoder.training
    assert all(p.requires_grad for p in encoder.parameters())
    encoder(torch.randn(2, 1, 96, 64)).square().sum().backward()
    assert encoder.conv1.weight.grad.abs().sum() > 0
    assert encoder.fc.weight.grad.abs().sum() > 0


def test_frozen_means_what_it_means_for_vggish():
    for cfg in (dict(type='AudioResNet', base_channels=8, frozen=True),
                dict(type='VGGish', frozen=True)):
        encoder = MODELS.build(cfg)
        encoder.train()
        assert not encoder.training, cfg  # batch norms keep their stats
        assert not any(p.requires_grad for p in encoder.parameters())
        shape = (2, 1, 96, 64)
        out = encoder(torch.randn(shape, requires_grad=True))
        assert not out.requires_grad, cfg  # no graph built
    vggish = MODELS.build(dict(type='VGGish', frozen=False))
    vggish.train()
    assert vggish.training
    assert all(p.requires_grad for p in vggish.parameters())


def test_wrong_channels_is_a_clear_error():
    with pytest.raises(ValueError, match=r'\(N, 2, T, F\).*in_channels'):
        build(in_channels=2, base_channels=8)(torch.randn(1, 1, 96, 64))
    with pytest.raises(ValueError, match='pool must be one of'):
        build(pool='sum')
