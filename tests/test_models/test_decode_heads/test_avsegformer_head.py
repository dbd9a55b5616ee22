import json
import os.path as osp

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmavs.models  # noqa: F401
from mmavs.structures import ClipLayout
from conftest import TINY_AVSEGFORMER_HEAD_ARGS

KEYS = osp.join(osp.dirname(__file__), '..', '..', 'checkpoint_keys',
                'avsegformer_pvt_s4.json')


def build(in_channels=(8, 16, 40, 64), **kwargs):
    return MODELS.build(dict(type='AVSegFormerHead',
                             in_channels=list(in_channels),
                             **dict(TINY_AVSEGFORMER_HEAD_ARGS, **kwargs)))


def pyramid(n=4, channels=(8, 16, 40, 64), size=64):
    return [torch.randn(n, c, size // s, size // s)
            for c, s in zip(channels, (4, 8, 16, 32))]


def sample(annotated, label):
    return SegDataSample(
        gt_sem_seg=PixelData(data=label[None]),
        metainfo=dict(annotated=annotated, img_shape=(64, 64)))


def test_shapes():
    head = build()
    logits, mask_feature = head.forward_with_mask_feature(
        pyramid(), torch.randn(4, 128))
    assert logits.shape == (4, 1, 64, 64)
    assert mask_feature.shape == (4, 32, 16, 16)
    torch.testing.assert_close(head(pyramid(), torch.randn(4, 128)).shape,
                               logits.shape)


def test_needs_audio_and_four_levels():
    with pytest.raises(ValueError, match='audio'):
        build()(pyramid())
    with pytest.raises(ValueError, match='four levels'):
        build(in_channels=(8, 16, 40))


def test_output_depends_on_audio():
    head = build().eval()
    feats = pyramid(n=1)
    with torch.no_grad():
        a = head(feats, torch.randn(1, 128))
        b = head(feats, torch.randn(1, 128))
    assert (a - b).abs().max() > 1e-6


def test_losses_and_gradients_reach_every_parameter():
    torch.manual_seed(0)
    head = build()
    # Deformable attention starts with zero query projections, which pass no
    # gradient to the positional / level embeddings until they move.
    for layer in head.encoder.layers:
        torch.nn.init.normal_(layer.self_attn.sampling_offsets.weight, std=0.1)
        torch.nn.init.normal_(layer.self_attn.attention_weights.weight,
                              std=0.1)
    labels = (torch.rand(4, 64, 64) > 0.5).long()
    ignore = torch.full((64, 64), 255, dtype=torch.long)
    samples = [sample(True, labels[0]), sample(False, ignore),
               sample(True, labels[2]), sample(True, labels[3])]
    losses, logits = head.loss_and_logits(
        pyramid(), torch.randn(4, 128),
        ClipLayout.from_data_samples(samples, [4]), samples)
    assert set(losses) == {'loss_dice', 'loss_mix'}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    assert logits.shape == (4, 1, 64, 64)
    sum(losses.values()).backward()
    missing = [n for n, p in head.named_parameters()
               if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing


def test_mix_loss_is_dice_of_channel_mean_weighted():
    torch.manual_seed(0)
    head = build()
    labels = (torch.rand(2, 64, 64) > 0.5).long()
    samples = [sample(True, labels[0]), sample(True, labels[1])]
    feats, audio = pyramid(n=2), torch.randn(2, 128)
    head.eval()  # no dropout: both passes see the same network
    losses, _ = head.loss_and_logits(
        feats, audio, ClipLayout.from_data_samples(samples, [2]), samples)
    _, mask_feature = head.forward_with_mask_feature(feats, audio)
    mean = torch.nn.functional.interpolate(
        mask_feature.mean(1, keepdim=True), size=(64, 64), mode='bilinear',
        align_corners=False)[:, 0].sigmoid()
    g = labels.float()
    dice = 1 - 2 * (mean * g).sum((1, 2)) / (
        (mean**2).sum((1, 2)) + 1e-3 + (g**2).sum((1, 2)) + 1e-3)
    torch.testing.assert_close(losses['loss_mix'], 0.1 * dice.mean())


def test_full_size_matches_reference_parameter_count():
    """The reference head minus its unused ``fpn`` / ``attn_fc``, plus the
    model-level ``audio_proj`` that lives in this head."""
    with open(KEYS) as f:
        ref = json.load(f)
    head = MODELS.build(dict(type='AVSegFormerHead',
                             in_channels=[64, 128, 320, 512]))
    unused = sum(n for _, n in ref['unused_params_in_forward'].values())
    expected = (ref['param_count_by_top_level_module']['head'] +
                ref['param_count_by_top_level_module']['audio_proj'] - unused)
    assert sum(p.numel() for p in head.parameters()) == expected
