import torch
from mmseg.registry import MODELS

import mmavs.models  # noqa: F401


def test_hand_computed_value_and_ignored_pixels():
    loss = MODELS.build(dict(type='BinaryDiceLoss', loss_weight=2.0))
    logits = torch.tensor([[[[0.0, 100.0], [-100.0, 5.0]]]])
    target = torch.tensor([[[1, 1], [0, 255]]])
    # p = (0.5, 1, 0), g = (1, 1, 0); the ignored pixel counts nowhere.
    inter, p2, g2 = 1.5, 1.25, 2.0
    expected = 2.0 * (1 - 2 * inter / (p2 + 1e-3 + g2 + 1e-3))
    torch.testing.assert_close(loss(logits, target), torch.tensor(expected))
    assert loss.loss_name == 'loss_dice'


def test_mean_over_samples():
    loss = MODELS.build(dict(type='BinaryDiceLoss', eps=0.0))
    perfect = torch.full((1, 1, 2, 2), 50.0)
    wrong = torch.full((1, 1, 2, 2), -50.0)
    target = torch.ones(2, 2, 2, dtype=torch.long)
    value = loss(torch.cat([perfect, wrong]), target)
    torch.testing.assert_close(value, torch.tensor(0.5))


def test_nonzero_foreground_for_class_maps():
    # AVSegFormer's AVSS mix loss: every class but background is foreground.
    semantic = MODELS.build(dict(type='BinaryDiceLoss', foreground='nonzero'))
    binary = MODELS.build(dict(type='BinaryDiceLoss'))
    logits = torch.randn(2, 1, 3, 3)
    classes = torch.tensor([[0, 5, 70], [255, 1, 0], [3, 0, 0]]).repeat(
        2, 1, 1)
    as_binary = torch.where((classes > 0) & (classes != 255), 1, classes)
    torch.testing.assert_close(semantic(logits, classes),
                               binary(logits, as_binary))
    try:
        MODELS.build(dict(type='BinaryDiceLoss', foreground='all'))
    except ValueError as err:
        assert 'foreground' in str(err)
    else:
        raise AssertionError('bad foreground accepted')
