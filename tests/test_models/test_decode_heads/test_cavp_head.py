import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import nn

import mmavs  # noqa: F401
from mmavs.models.decode_heads import CAVPHead
from mmavs.structures import ClipLayout


def sample(gt):
    s = SegDataSample()
    s.gt_sem_seg = PixelData(data=gt[None])
    return s


@pytest.mark.parametrize('classes', [2, 22, 71])
def test_layers_and_shapes(classes):
    head = CAVPHead(in_channels=12, channels=8, num_classes=classes,
                    out_channels=classes)
    convs = [m for m in head.convs if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(3, 3), (3, 3)]
    assert all(c.bias is None for c in convs)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in head.convs) == 2
    assert head.conv_seg.kernel_size == (1, 1)
    assert head.align_corners is False
    logits = head([torch.randn(2, 12, 8, 8)])
    assert logits.shape == (2, classes, 8, 8)
    up = head.predict_by_feat(logits, [dict(img_shape=(32, 32))] * 2)
    assert up.shape == (2, classes, 32, 32)


def test_softmax_ce_ignores_255_on_annotated_frames():
    torch.manual_seed(0)
    head = CAVPHead(in_channels=12, channels=8, num_classes=3,
                    out_channels=3)
    logits = torch.randn(2, 3, 4, 4)
    gt = torch.randint(0, 3, (2, 4, 4))
    gt[0, :2] = 255
    layout = ClipLayout.from_lengths([1, 1], annotated=True)
    losses = head.loss_by_feat(logits, [sample(g) for g in gt], layout)
    expected = nn.functional.cross_entropy(logits, gt, ignore_index=255)
    assert torch.allclose(losses['loss_ce'], expected)
