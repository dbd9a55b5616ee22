"""TPAVI neck: the factorised block versus the literal formula; plumbing."""
import pytest
import torch
import torch.nn.functional as F

import mmavs.models.necks  # noqa: F401  registers TPAVINeck
from mmavs.models.necks import DilatedConvModule, TPAVIBlock, TPAVINeck
from mmavs.structures import ClipLayout
from mmseg.registry import MODELS

LEVEL_SIZES = (16, 8, 4, 2)  # strides 4/8/16/32 of a 64x64 frame
IN_CHANNELS = [8, 16, 32, 64]


def naive_block(block, x, audio):
    """The reference formula, N x N affinity built explicitly (no reuse)."""
    b, c, t, h, w = x.shape
    n = t * h * w
    aligned = F.linear(audio, block.align_channel.weight,
                       block.align_channel.bias)  # (B, T, C)
    repeated = aligned.permute(0, 2, 1)[..., None, None].repeat(1, 1, 1, h, w)
    theta = block.theta(x).reshape(b, c // 2, n).permute(0, 2, 1)
    phi = block.phi(repeated).reshape(b, c // 2, n)
    g = block.g(x).reshape(b, c // 2, n).permute(0, 2, 1)
    f = torch.matmul(theta, phi) / n  # (B, N, N)
    y = torch.matmul(f, g).permute(0, 2, 1).reshape(b, c // 2, t, h, w)
    z = block.W_z(y) + x
    z = F.layer_norm(z.permute(0, 2, 3, 4, 1), (c, ), block.norm_layer.weight,
                     block.norm_layer.bias, block.norm_layer.eps)
    return z.permute(0, 4, 1, 2, 3), aligned


def randomise_bn(block):
    """Non-zero affine and running stats, so the block is not the identity."""
    bn = block.W_z[1]
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.normal_()
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)


def clip_inputs(b=2, t=2, c=8, h=3, w=3, dtype=torch.float64):
    return torch.randn(b, c, t, h, w, dtype=dtype), torch.randn(b,
                                                                t,
                                                                128,
                                                                dtype=dtype)


def neck_inputs(num_clips=1, num_frames=2, scale=1):
    feats = [
        torch.randn(num_clips * num_frames, c * scale, s, s)
        for c, s in zip(IN_CHANNELS, LEVEL_SIZES)
    ]
    return feats, torch.randn(num_clips * num_frames, 128)


def test_block_matches_naive_formula_float64():
    torch.manual_seed(0)
    block = TPAVIBlock(channels=8, audio_channels=128).double()
    randomise_bn(block)
    block.eval()
    x, audio = clip_inputs()
    z, aligned = block(x, audio)
    ref_z, ref_aligned = naive_block(block, x, audio)
    assert z.shape == (2, 8, 2, 3, 3) and aligned.shape == (2, 2, 8)
    torch.testing.assert_close(z, ref_z, rtol=0, atol=1e-10)
    torch.testing.assert_close(aligned, ref_aligned, rtol=0, atol=1e-10)
    # the fusion term really contributes
    assert (z - block._channel_norm(x)).abs().max() > 1e-2


@pytest.mark.parametrize('train', [True, False])
def test_fresh_block_is_layer_norm_of_input(train):
    torch.manual_seed(0)
    block = TPAVIBlock(channels=8).double().train(train)
    x, audio = clip_inputs()
    z, _ = block(x, audio)
    expected = F.layer_norm(x.permute(0, 2, 3, 4, 1),
                            (8, )).permute(0, 4, 1, 2, 3)
    torch.testing.assert_close(z, expected, rtol=0, atol=1e-12)


def test_parameter_counts():
    block = TPAVIBlock(channels=256, audio_channels=128)
    assert sum(p.numel() for p in block.parameters()) == 165_760
    names = {n.split('.')[0] for n, _ in block.named_parameters()}
    assert names == {'align_channel', 'theta', 'phi', 'g', 'W_z', 'norm_layer'}
    conv = DilatedConvModule(512, 256)
    assert sum(p.numel() for p in conv.parameters()) == 4_719_616


def test_dilated_conv_module_shape_and_init():
    torch.manual_seed(0)
    conv = DilatedConvModule(64, 256)
    assert conv(torch.randn(2, 64, 7, 7)).shape == (2, 256, 7, 7)
    assert [m.dilation for m in conv.convs] == [(d, d) for d in (3, 6, 12, 18)]
    weight = torch.cat([m.weight.flatten() for m in conv.convs])
    assert abs(weight.std().item() - 0.01) < 5e-4
    assert all((m.bias == 0).all() for m in conv.convs)


def test_neck_shapes_through_all_levels():
    torch.manual_seed(0)
    neck = TPAVINeck(in_channels=IN_CHANNELS, channels=16)
    feats, audio = neck_inputs(num_clips=2, num_frames=2)
    fused, extras, losses = neck(feats, audio, ClipLayout.uniform(2, 2))
    level_audio = extras['level_audio']
    assert losses == {} and extras['num_samples'] == 1
    assert [tuple(f.shape) for f in fused] == [(4, 16, s, s)
                                               for s in LEVEL_SIZES]
    assert [tuple(a.shape) for a in level_audio] == [(4, 16)] * 4


def test_neck_keeps_clips_apart():
    """Frames of one clip must not see another clip's frames or audio."""
    torch.manual_seed(0)
    neck = TPAVINeck(in_channels=IN_CHANNELS, channels=16).eval()
    for block in neck.tpavi.values():
        randomise_bn(block)
    feats, audio = neck_inputs(num_clips=2, num_frames=2)
    both = neck(feats, audio, ClipLayout.uniform(2, 2)).fused
    first = neck([f[:2] for f in feats], audio[:2],
                 ClipLayout.uniform(1, 2)).fused
    for joint, alone in zip(both, first):
        torch.testing.assert_close(joint[:2], alone, rtol=1e-5, atol=1e-5)


def test_clips_of_different_lengths_attend_within_each_clip():
    """A batch of a 3-, a 1- and a 2-frame clip equals the clips alone."""
    torch.manual_seed(0)
    neck = TPAVINeck(in_channels=IN_CHANNELS, channels=16).eval()
    for block in neck.tpavi.values():
        randomise_bn(block)
    feats, audio = neck_inputs(num_clips=1, num_frames=6)
    mixed = neck(feats, audio, ClipLayout.from_lengths([3, 1, 2]))
    start = 0
    for length in (3, 1, 2):
        part = slice(start, start + length)
        alone = neck([f[part] for f in feats], audio[part],
                     ClipLayout.uniform(1, length))
        for joint, single in zip(mixed.fused, alone.fused):
            torch.testing.assert_close(joint[part], single, rtol=1e-5,
                                       atol=1e-5)
        for joint, single in zip(mixed.extras['level_audio'],
                                 alone.extras['level_audio']):
            torch.testing.assert_close(joint[part], single)
        start += length


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    neck = TPAVINeck(in_channels=IN_CHANNELS, channels=16)
    for block in neck.tpavi.values():  # BN at 0 would block theta/phi/g
        with torch.no_grad():
            block.W_z[1].weight.fill_(1.0)
    feats, audio = neck_inputs(num_frames=2)
    fused, extras, _ = neck(feats, audio, ClipLayout.uniform(1, 2))
    level_audio = extras['level_audio']
    # weights break LayerNorm's zero-sum gradient w.r.t. its input
    loss = sum((f * torch.randn_like(f)).sum() for f in fused)
    loss = loss + sum(a.sum() for a in level_audio)
    loss.backward()
    for name, param in neck.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


def test_build_from_config():
    neck = MODELS.build(
        dict(type='TPAVINeck', in_channels=[8, 16, 32, 64], channels=16))
    assert isinstance(neck, TPAVINeck)
    assert len(neck.convs) == 4 and len(neck.tpavi) == 4


def test_init_weights_keeps_reference_init():
    torch.manual_seed(0)
    neck = TPAVINeck(in_channels=IN_CHANNELS,
                     channels=16,
                     init_cfg=[
                         dict(type='Normal',
                              layer=['Conv2d', 'Conv3d'],
                              std=1.0),
                         dict(type='Constant', layer='BatchNorm3d', val=1.0)
                     ])
    neck.init_weights()
    for conv in neck.convs:
        weight = torch.cat([m.weight.flatten() for m in conv.convs])
        assert weight.std() < 0.02
    for block in neck.tpavi.values():
        assert (block.W_z[1].weight == 0).all()
        assert (block.W_z[1].bias == 0).all()
        assert block.theta.weight.std() > 0.5  # generic init_cfg did run


def test_errors_on_bad_inputs():
    neck = TPAVINeck(in_channels=IN_CHANNELS, channels=16)
    feats, audio = neck_inputs(num_frames=3)
    with pytest.raises(ValueError, match=r'clip layout \[2\] has 2'):
        neck(feats, audio, ClipLayout.uniform(1, 2))
    feats, audio = neck_inputs(num_frames=2)
    with pytest.raises(ValueError, match='expected 4 feature levels'):
        neck(feats[:3], audio, ClipLayout.uniform(1, 2))
    with pytest.raises(ValueError, match='out of range'):
        TPAVINeck(in_channels=IN_CHANNELS, tpavi_levels=(4, ))


def test_partial_tpavi_levels():
    torch.manual_seed(0)
    neck = TPAVINeck(in_channels=IN_CHANNELS, channels=16, tpavi_levels=(3, ))
    assert list(neck.tpavi.keys()) == ['3']
    feats, audio = neck_inputs(num_frames=2)
    fused, extras, _ = neck(feats, audio, ClipLayout.uniform(1, 2))
    level_audio = extras['level_audio']
    for level in range(3):
        torch.testing.assert_close(fused[level],
                                   neck.convs[level](feats[level]))
        assert level_audio[level] is None
    assert level_audio[3].shape == (2, 16)
    assert fused[3].shape == (2, 16, 2, 2)


def test_neck_dilations():
    """The reference dilations by default; other ones where configured."""
    neck = TPAVINeck(in_channels=IN_CHANNELS, channels=16)
    for level in neck.convs:
        assert [m.dilation for m in level.convs] == [(d, d)
                                                     for d in (3, 6, 12, 18)]
    neck = TPAVINeck(in_channels=IN_CHANNELS, channels=16,
                     dilations=(1, 1, 1, 1))
    for level in neck.convs:
        assert [m.dilation for m in level.convs] == [(1, 1)] * 4
        assert [m.padding for m in level.convs] == [(1, 1)] * 4
    feats, audio = neck_inputs(num_frames=2)
    fused = neck(feats, audio, ClipLayout.uniform(1, 2)).fused
    assert [f.shape[-1] for f in fused] == list(LEVEL_SIZES)


def test_bias_free_alignment_of_the_avss_reference():
    # The AVSS reference aligns the audio without bias: its checkpoints have
    # no align_channel.bias, and the zero audio of padding frames stays 0.
    neck = TPAVINeck(in_channels=[4, 4], channels=8, tpavi_levels=(0, 1),
                     align_bias=False)
    keys = neck.state_dict().keys()
    assert not any(k.endswith('align_channel.bias') for k in keys)
    assert any(k.endswith('align_channel.weight') for k in keys)
    feats = [torch.randn(4, 4, 3, 3), torch.randn(4, 4, 2, 2)]
    audio = torch.randn(4, 128)
    audio[2:] = 0  # the second clip's frames are padding
    out = neck(feats, audio, ClipLayout.uniform(2, 2))
    for aligned in out.extras['level_audio']:
        assert (aligned[2:] == 0).all() and (aligned[:2] != 0).any()
    with_bias = TPAVINeck(in_channels=[4, 4], channels=8, tpavi_levels=(0, ))
    assert 'tpavi.0.align_channel.bias' in with_bias.state_dict()
