"""CAVP's neck: the DeepLabV3+ decoder, the sigmoid cross-attention fusion
(against an independent hand computation) and their composition."""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch import nn
from torch.nn import functional as F

import mmavs  # noqa: F401
from mmavs.models.necks import (CAVPDecoder, CAVPNeck, NeckOutput,
                                SigmoidCrossAttentionFusion)
from mmavs.structures import ClipLayout

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))


def tiny_levels(num=2):
    return [torch.randn(num, 8, 16, 16), torch.randn(num, 16, 8, 8),
            torch.randn(num, 32, 4, 4), torch.randn(num, 64, 4, 4)]


def test_decoder_shapes_and_layers():
    torch.manual_seed(0)
    decoder = CAVPDecoder(in_channels=(8, 64), aspp_channels=16,
                          low_level_channels=6)
    out = decoder(tiny_levels())
    assert out.shape == (2, 22, 16, 16) and decoder.out_channels == 22
    aspp = decoder.aspp
    assert aspp.act.negative_slope == 0.01
    assert [c.dilation for c in aspp.map_convs] == [(1, 1), (6, 6), (12, 12),
                                                   (18, 18)]
    assert all(c.bias is None for c in aspp.map_convs)
    assert isinstance(decoder.reduce[2], nn.ReLU)


def test_decoder_concat_and_upsampling_by_hand():
    """u_v = [upsample(aspp(layer4)) (align_corners=True), reduce(layer1)]."""
    torch.manual_seed(0)
    decoder = CAVPDecoder(in_channels=(8, 64), aspp_channels=16,
                          low_level_channels=6).eval()
    feats = tiny_levels()
    out = decoder(feats)
    high = F.interpolate(decoder.aspp(feats[3]), size=(16, 16),
                         mode='bilinear', align_corners=True)
    assert torch.allclose(out[:, :16], high)
    assert torch.allclose(out[:, 16:], decoder.reduce(feats[0]))


def test_aspp_image_pooling_branch_is_added_before_the_last_bn():
    torch.manual_seed(0)
    decoder = CAVPDecoder(in_channels=(8, 64), aspp_channels=16).eval()
    aspp = decoder.aspp
    x = torch.randn(2, 64, 4, 4)
    act = nn.LeakyReLU(0.01)
    maps = act(aspp.map_bn(torch.cat([c(x) for c in aspp.map_convs], 1)))
    pool = aspp.pool_red_conv(act(aspp.pool_bn(aspp.pool_conv(
        x.mean((2, 3), keepdim=True)))))
    expected = act(aspp.red_bn(aspp.red_conv(maps) + pool))
    assert torch.allclose(aspp(x), expected, atol=1e-6)


def layer_norm(x, norm):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean)**2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias


def linear(x, layer):
    out = x @ layer.weight.T
    return out if layer.bias is None else out + layer.bias


def hand_fusion(fusion, visual, audio):
    """The block of cavp.md §4 written out pixel by pixel and head by head."""
    n, c, h, w = visual.shape
    heads, dim = fusion.num_heads, c // fusion.num_heads
    gelu = nn.GELU()
    out = torch.empty_like(visual)
    gates = torch.empty(n, h * w, heads)
    for i in range(n):
        a = layer_norm(linear(audio[i], fusion.embed_audio), fusion.norm1)
        k = linear(a, fusion.k)
        v = linear(a, fusion.v)
        for p in range(h * w):
            y, x = divmod(p, w)
            t = visual[i, :, y, x]
            t = linear(gelu(linear(t, fusion.visual_projector[0])),
                       fusion.visual_projector[2])
            t = layer_norm(linear(t, fusion.embed_visual), fusion.norm1)
            q = linear(t, fusion.q)
            parts = []
            for hd in range(heads):
                sl = slice(hd * dim, (hd + 1) * dim)
                score = float((q[sl] * k[sl]).sum()) / math.sqrt(dim)
                gate = 1 / (1 + math.exp(-score))
                gates[i, p, hd] = gate
                parts.append(gate * v[sl])
            z = t + linear(torch.cat(parts), fusion.proj)
            z = z + linear(gelu(linear(layer_norm(z, fusion.norm2),
                                       fusion.mlp[0])), fusion.mlp[2])
            out[i, :, y, x] = layer_norm(z, fusion.norm)
    return out, gates


def test_sigmoid_gate_and_block_against_a_hand_computation():
    torch.manual_seed(0)
    fusion = SigmoidCrossAttentionFusion(channels=8, audio_channels=6,
                                         projector_channels=5, num_heads=2)
    # Non-trivial norms so that a mix-up of the LayerNorms would show.
    for norm in (fusion.norm1, fusion.norm2, fusion.norm):
        nn.init.normal_(norm.weight, 1, 0.3)
        nn.init.normal_(norm.bias, 0, 0.3)
    visual = torch.randn(2, 8, 3, 2)
    audio = torch.randn(2, 6)
    with torch.no_grad():
        expected, gates = hand_fusion(fusion, visual, audio)
        v, a = fusion.tokens(visual, audio)
        assert torch.allclose(fusion.gate(v, a), gates, atol=1e-5)
        assert torch.allclose(fusion(visual, audio), expected, atol=1e-5)
    assert bool(((gates > 0) & (gates < 1)).all())


def test_fusion_layers_as_the_spec_says():
    fusion = SigmoidCrossAttentionFusion()
    assert fusion.head_dim == 76 and fusion.num_heads == 4
    assert fusion.q.bias is None and fusion.k.bias is None \
        and fusion.v.bias is None
    assert fusion.mlp[0].out_features == 4 * 304
    assert fusion.visual_projector[0].out_features == 256


def test_no_positional_embedding():
    """No parameter or buffer carries position, and the fusion commutes
    with any permutation of the pixels."""
    torch.manual_seed(0)
    fusion = SigmoidCrossAttentionFusion(channels=8, audio_channels=8,
                                         projector_channels=4, num_heads=2)
    names = [n for n, _ in fusion.named_parameters()] + \
        [n for n, _ in fusion.named_buffers()]
    assert not [n for n in names if 'pos' in n]
    visual, audio = torch.randn(1, 8, 4, 4), torch.randn(1, 8)
    perm = torch.randperm(16)
    shuffled = visual.flatten(2)[..., perm].view(1, 8, 4, 4)
    with torch.no_grad():
        out = fusion(visual, audio).flatten(2)[..., perm]
        assert torch.allclose(fusion(shuffled, audio).flatten(2), out,
                              atol=1e-6)


def test_neck_output_and_fuse_reuse():
    torch.manual_seed(0)
    neck = CAVPNeck(
        decoder=dict(type='CAVPDecoder', in_channels=(8, 64),
                     aspp_channels=16, low_level_channels=8),
        fusion=dict(type='SigmoidCrossAttentionFusion', channels=24,
                    audio_channels=12, projector_channels=8)).eval()
    feats = tiny_levels(3)
    audio = torch.randn(3, 12)
    layout = ClipLayout.uniform(3, 1)  # three single-image samples, T = 1
    out = neck(feats, audio, layout)
    assert isinstance(out, NeckOutput)
    assert len(out.fused) == 1 and out.fused[0].shape == (3, 24, 16, 16)
    assert out.extras['num_samples'] == 1 and out.extras['level_audio'] is None
    assert out.losses == {}
    other = torch.randn(3, 12)
    with torch.no_grad():
        again = neck.fuse(out.extras['visual_prepared'], other, layout)
        assert torch.allclose(again.fused[0], neck(feats, other).fused[0])
    with pytest.raises(ValueError):
        neck(feats, torch.randn(2, 12), layout)


def test_r50_model_from_the_config_output_strides():
    """The VPO model: stride 8 at layer 4, u_v / fused 304 ch at stride 4,
    22 logits; the AVSS model: stride 16."""
    init_default_scope('mmseg')
    for name, stride, classes in (
            ('cavp_r50_1xb16-80e_vpo-ss-512x512.py', 8, 22),
            ('cavp_r50_1xb16-80e_avss-512x512.py', 16, 71)):
        path = osp.join(ROOT, 'configs', 'cavp', name)
        base = osp.join(ROOT, 'configs', '_base_', 'datasets', 'vpo_ss.py')
        if 'vpo' in name and not osp.isfile(base):
            continue
        cfg = Config.fromfile(path)
        cfg.model.backbone.visual.init_cfg = None
        cfg.model.backbone.audio.init_cfg = None
        model = MODELS.build(cfg.model).eval()
        resnet = model.backbone.visual
        assert [b.conv2.dilation[0] for b in resnet.layer4] == [2, 4, 8]
        assert [b.conv2.dilation[0] for b in resnet.layer3] == (
            [1] + [2] * 5 if stride == 8 else [1] * 6)
        frames = torch.randn(1, 3, 64, 64)
        with torch.no_grad():
            visual = model.backbone.visual(frames)
            assert visual[3].shape[-1] == 64 // stride
            assert visual[3].shape[1] == 2048
            u_v = model.neck.prepare(visual)[0]
            assert u_v.shape == (1, 304, 16, 16)
            fused = model.neck.fuse([u_v], torch.randn(1, 304)).fused
            logits = model.decode_head(fused)
        assert logits.shape == (1, classes, 16, 16)


def test_decoder_trains_on_a_batch_of_one():
    """One image per batch (CAVP at batch 1, or a last partial batch): the
    pooling branch's BN falls back to its running statistics."""
    torch.manual_seed(0)
    decoder = CAVPDecoder(in_channels=(8, 64), aspp_channels=16).train()
    running = decoder.aspp.pool_bn.running_mean.clone()
    out = decoder([f[:1] for f in tiny_levels()])
    assert out.shape == (1, 64, 16, 16)
    out.sum().backward()
    assert torch.equal(decoder.aspp.pool_bn.running_mean, running)
