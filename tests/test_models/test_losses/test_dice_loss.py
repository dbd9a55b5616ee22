import pytest
import torch
from mmseg.registry import MODELS

import mmavs.models  # noqa: F401
from mmavs.models.losses import MultiClassDiceLoss


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


# ------------------------------------------------------ MultiClassDiceLoss
def hand_dice(prob, truth, eps=1e-3):
    inter = (prob * truth).sum()
    return 1 - 2 * inter / ((prob**2).sum() + eps + (truth**2).sum() + eps)


def test_multiclass_hand_computed_value_and_ignored_pixels():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 3, 4)
    target = torch.tensor([[[0, 0, 3, 3], [0, 0, 3, 3], [0, 0, 0, 255]],
                           [[0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]])
    loss = MultiClassDiceLoss(loss_weight=2.0)(logits, target)
    prob = logits.softmax(1)
    valid = (target != 255).float()
    # (frame, class) pairs present: (0, 0), (0, 3), (1, 0), (1, 1).
    terms = [hand_dice(prob[f, c] * valid[f], (target[f] == c).float())
             for f, c in ((0, 0), (0, 3), (1, 0), (1, 1))]
    assert loss.item() == pytest.approx(2.0 * sum(terms).item() / 4,
                                        rel=1e-6)


def test_multiclass_perfect_prediction_and_gradients():
    target = torch.tensor([[[0, 2], [2, 2]]])
    logits = torch.full((1, 4, 2, 2), -20.0)
    logits.scatter_(1, target.unsqueeze(1), 20.0)
    assert MultiClassDiceLoss()(logits, target).item() < 1e-3
    logits = torch.zeros(1, 4, 2, 2, requires_grad=True)
    MultiClassDiceLoss()(logits, target).backward()
    # Raising the true class's logit lowers the loss.
    assert (logits.grad.gather(1, target.unsqueeze(1)) < 0).all()


def test_small_object_weighs_like_the_background():
    """Background-only prediction: CE is small (one pixel of 64 wrong) but
    the Dice loss stays near 0.5 (the object's term is 1)."""
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[0, 3, 3] = 1
    logits = torch.zeros(1, 3, 8, 8)
    logits[:, 0] = 10.0
    assert MultiClassDiceLoss()(logits, target).item() == pytest.approx(
        0.5, abs=0.02)


def test_multiclass_all_ignored_is_zero_with_a_graph():
    logits = torch.randn(1, 3, 2, 2, requires_grad=True)
    loss = MultiClassDiceLoss()(logits, torch.full((1, 2, 2), 255))
    loss.backward()
    assert loss.item() == 0 and logits.grad is not None
