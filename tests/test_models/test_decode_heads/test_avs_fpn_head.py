import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmavs.models  # noqa: F401


def build(channels=16):
    return MODELS.build(dict(type='AVSFPNHead', in_channels=[channels] * 4,
                             channels=channels))


def pyramid(n=4, channels=16, size=64):
    return [torch.randn(n, channels, size // s, size // s)
            for s in (4, 8, 16, 32)]


def test_output_is_full_resolution_single_channel():
    logits = build()(pyramid())
    assert logits.shape == (4, 1, 64, 64)


def test_parameter_counts_match_avsbench_at_256_channels():
    head = build(256)
    count = {name: sum(p.numel() for p in module.parameters())
             for name, module in head.named_children()}
    # AVSBench keeps an unused RCU in path4 (1,180,160 params); we do not.
    assert count['path4'] == 2360320 - 1180160
    assert count['path3'] == count['path2'] == count['path1'] == 2360320
    assert count['output_conv'] + count['conv_seg'] == 331969


def sample(annotated, label):
    return SegDataSample(
        gt_sem_seg=PixelData(data=label[None]),
        metainfo=dict(annotated=annotated, img_shape=(64, 64)))


def test_loss_uses_annotated_frames_only():
    head = build()
    logits = torch.randn(4, 1, 64, 64, requires_grad=True)
    ones = torch.ones(64, 64, dtype=torch.long)
    ignore = torch.full((64, 64), 255, dtype=torch.long)
    samples = [sample(True, ones), sample(False, ignore),
               sample(False, ignore), sample(True, ones * 0)]
    loss = head.loss_by_feat(logits, samples)['loss_ce']
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits[[0, 3], 0], torch.stack([ones, ones * 0]).float())
    assert torch.allclose(loss, expected, atol=1e-6)
    loss.backward()
    assert logits.grad[[1, 2]].abs().sum() == 0


def test_loss_without_annotated_frames_is_zero_but_connected():
    head = build()
    logits = torch.randn(2, 1, 64, 64, requires_grad=True)
    ignore = torch.full((64, 64), 255, dtype=torch.long)
    loss = head.loss_by_feat(logits, [sample(False, ignore)] * 2)['loss_ce']
    assert loss.item() == 0
    loss.backward()
    assert logits.grad is not None


def test_rejects_mismatched_channels():
    with pytest.raises(ValueError, match='in_channels all equal'):
        MODELS.build(dict(type='AVSFPNHead', in_channels=[8, 16, 16, 16],
                          channels=16))


def semantic_head(classes=5):
    return MODELS.build(dict(
        type='AVSFPNHead', in_channels=[16] * 4, channels=16,
        num_classes=classes, out_channels=classes,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         avg_non_ignore=True, loss_weight=1.0)))


def test_semantic_head_loss_is_the_avss_reference_cross_entropy():
    # AVSS: per-frame mean of 71-way (here 5-way) cross-entropy, times the
    # supervision flag, summed, divided by the number of supervised frames.
    head = semantic_head()
    assert head(pyramid())[0].shape == (5, 64, 64)
    torch.manual_seed(0)
    logits = torch.randn(4, 5, 64, 64, requires_grad=True)
    labels = torch.randint(0, 5, (4, 64, 64))
    flags = torch.tensor([1., 0., 1., 1.])
    samples = [sample(bool(f), lab) for f, lab in zip(flags, labels)]
    loss = head.loss_by_feat(logits, samples)['loss_ce']
    per_frame = torch.nn.functional.cross_entropy(
        logits, labels, reduction='none').mean((-2, -1))
    expected = (per_frame * flags).sum() / flags.sum()
    assert torch.allclose(loss, expected, atol=1e-6)
