import pytest
import torch
from mmseg.registry import MODELS

import mmavs.models  # noqa: F401
from mmavs.models.backbones import CPMAudioFeatures


@pytest.mark.parametrize('channels', [1, 2])
@pytest.mark.parametrize('frames,num_tokens', [(96, 6 * 4 + 3 * 2),
                                               (300, 19 * 4 + 10 * 2)])
def test_shapes(channels, frames, num_tokens):
    enc = MODELS.build(
        dict(type='CPMAudioEncoder', in_channels=channels, embed_dims=16,
             num_groups=4, resnet_cfg=dict(base_channels=8)))
    spec = torch.randn(2, channels, frames, 64)
    out = enc(spec)
    assert isinstance(out, CPMAudioFeatures)
    assert out.tokens.shape == (2, num_tokens, 16)
    assert out.token_pos.shape == (2, num_tokens, 16)
    assert out.dense.shape == (2, 16, frames, 64)
    # The positional encoding depends on the position only.
    torch.testing.assert_close(out.token_pos[0], out.token_pos[1])
    (out.tokens.sum() + out.dense.sum()).backward()
    assert all(p.grad is not None for p in enc.parameters()
               if p.requires_grad)


def test_default_resnet18_widths():
    enc = MODELS.build(dict(type='CPMAudioEncoder'))
    assert [m.in_channels for m in enc.fpn.laterals] == [64, 128, 256, 512]
    out = enc(torch.randn(1, 1, 96, 64))
    assert out.tokens.shape == (1, 30, 256)
    assert out.dense.shape == (1, 256, 96, 64)


def test_wrong_channels_raise():
    enc = MODELS.build(dict(type='CPMAudioEncoder', in_channels=2,
                            embed_dims=16, num_groups=4,
                            resnet_cfg=dict(base_channels=8)))
    with pytest.raises(ValueError, match='2, T, F'):
        enc(torch.randn(1, 1, 96, 64))


def test_audio_fpn_top_down():
    fpn = MODELS.build(dict(type='AudioFPN', in_channels=(2, 3),
                            out_channels=8, num_groups=2))
    with pytest.raises(ValueError, match='out_levels'):
        MODELS.build(dict(type='AudioFPN', in_channels=(2, 3),
                          out_channels=8, num_groups=2, out_levels=(2, )))
    fine, coarse = torch.randn(1, 2, 5, 4), torch.randn(1, 3, 3, 2)
    outs = fpn([fine, coarse])
    assert [o.shape[-2:] for o in outs] == [(5, 4), (3, 2)]
    # The coarse level reaches the fine output; not the other way round.
    coarse.requires_grad_(True)
    fine.requires_grad_(True)
    fpn([fine, coarse])[0].sum().backward()
    assert coarse.grad.abs().sum() > 0
    fine.grad = None
    fpn([fine, coarse])[1].sum().backward()
    assert fine.grad is None or fine.grad.abs().sum() == 0
