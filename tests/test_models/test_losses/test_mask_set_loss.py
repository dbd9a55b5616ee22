import math

import pytest
import torch
from mmseg.registry import MODELS

import mmavs.models  # noqa: F401
from mmavs.models.losses import mask_set_loss, sigmoid_focal_loss
from mmavs.models.losses.dice_loss import mask_dice_loss


@pytest.fixture
def centre_points(monkeypatch):
    """Replace the random point choice by the pixel centres of a 1x2 map,
    so the loss can be computed by hand."""

    def fixed(mask_logits, num_points, *args, **kwargs):
        centres = torch.tensor([[0.25, 0.5], [0.75, 0.5]])
        return centres.expand(mask_logits.shape[0], 2, 2).clone()

    monkeypatch.setattr(mask_set_loss, 'uncertain_points', fixed)


def tiny_inputs():
    # One frame, two queries, K = 1 class + ∅ (L = 2).
    cls_logits = torch.tensor([[[0.0, 0.0], [math.log(3.0), 0.0]]],
                              requires_grad=True)
    mask_logits = torch.zeros(1, 2, 1, 2, requires_grad=True)
    labels = torch.tensor([0])
    masks = torch.tensor([[[True, False]]])
    indices = [(torch.tensor([0]), torch.tensor([0]))]
    return cls_logits, mask_logits, labels, masks, indices


def test_hand_computed_values(centre_points):
    loss = MODELS.build(dict(type='MaskSetLoss', num_labels=2, num_points=2))
    cls_logits, mask_logits, labels, masks, indices = tiny_inputs()
    out = loss(cls_logits, mask_logits, [(labels, masks)], indices)
    # Query 0 → class 0: CE ln 2 (weight 1); query 1 → ∅: CE ln 4 (0.1).
    expected_cls = 2.0 * (math.log(2) + 0.1 * math.log(4)) / 1.1
    # p = 0.5 at both points, g = (1, 0): focal = ln2 · 0.25 · (0.25 or
    # 0.75), mean over the points; dice = 1 - (2·0.5 + 1) / (1 + 1 + 1).
    expected_focal = 5.0 * math.log(2) * 0.25 * (0.25 + 0.75) / 2
    expected_dice = 5.0 * (1 - 2 / 3)
    assert out['loss_cls'].item() == pytest.approx(expected_cls, rel=1e-5)
    assert out['loss_focal'].item() == pytest.approx(expected_focal,
                                                     rel=1e-5)
    assert out['loss_dice'].item() == pytest.approx(expected_dice, rel=1e-5)
    sum(out.values()).backward()
    assert mask_logits.grad[0, 0].abs().sum() > 0
    assert mask_logits.grad[0, 1].abs().sum() == 0  # unmatched: no mask loss


def test_invalid_pixels_count_nowhere(centre_points):
    loss = MODELS.build(dict(type='MaskSetLoss', num_labels=2, num_points=2))
    cls_logits, mask_logits, labels, masks, indices = tiny_inputs()
    valid = torch.tensor([[True, False]])
    out = loss(cls_logits, mask_logits, [(labels, masks, valid)], indices)
    # Only the first point (p = 0.5, g = 1) counts.
    assert out['loss_focal'].item() == pytest.approx(
        5.0 * math.log(2) * 0.25 * 0.25, rel=1e-5)
    assert out['loss_dice'].item() == pytest.approx(
        5.0 * (1 - 2 / 2.5), rel=1e-5)


def test_normalised_by_ground_truth_masks_of_the_batch(centre_points):
    loss = MODELS.build(dict(type='MaskSetLoss', num_labels=2, num_points=2))
    cls_logits, mask_logits, labels, masks, indices = tiny_inputs()
    one = loss(cls_logits, mask_logits, [(labels, masks)], indices)
    # A second frame with the same pair doubles the sum and the count.
    two = loss(cls_logits.repeat(2, 1, 1), mask_logits.repeat(2, 1, 1, 1),
               [(labels, masks)] * 2, indices * 2)
    for key in one:
        torch.testing.assert_close(one[key], two[key])


def test_empty_ground_truth_keeps_the_graph():
    loss = MODELS.build(dict(type='MaskSetLoss', num_labels=3,
                             num_points=16))
    cls_logits = torch.randn(2, 4, 3, requires_grad=True)
    mask_logits = torch.randn(2, 4, 8, 8, requires_grad=True)
    empty = (torch.empty(0, dtype=torch.long),
             torch.zeros(0, 16, 16, dtype=torch.bool))
    no_match = (torch.empty(0, dtype=torch.long),) * 2
    out = loss(cls_logits, mask_logits, [empty, empty], [no_match] * 2)
    assert out['loss_focal'].item() == 0 and out['loss_dice'].item() == 0
    # Every query is ∅: the CE is the plain (equally weighted) mean.
    expected = -cls_logits.log_softmax(-1)[..., 2].mean() * 2.0
    torch.testing.assert_close(out['loss_cls'], expected)
    sum(out.values()).backward()
    assert mask_logits.grad is not None
    assert mask_logits.grad.abs().sum() == 0


def test_one_frame_empty_other_matched_random_points():
    torch.manual_seed(0)
    loss = MODELS.build(dict(type='MaskSetLoss', num_labels=3,
                             num_points=64))
    mask_logits = torch.randn(2, 3, 8, 8, requires_grad=True)
    gt = torch.zeros(16, 16, dtype=torch.long)
    gt[:8] = 1
    gt[-2:] = 255
    from mmavs.models.utils import semantic_to_targets
    labels, masks = semantic_to_targets(gt, 2)
    targets = [(torch.empty(0, dtype=torch.long),
                torch.zeros(0, 16, 16, dtype=torch.bool)),
               (labels, masks, gt != 255)]
    indices = [(torch.empty(0, dtype=torch.long),) * 2,
               (torch.tensor([2, 0]), torch.tensor([0, 1]))]
    out = loss(torch.randn(2, 3, 3), mask_logits, targets, indices,
               generator=torch.Generator().manual_seed(1))
    sum(out.values()).backward()
    assert mask_logits.grad[0].abs().sum() == 0
    assert mask_logits.grad[1, 1].abs().sum() == 0
    assert mask_logits.grad[1, [0, 2]].abs().sum() > 0
    # Perfect masks give little Dice loss on uniform points.
    loss = MODELS.build(dict(type='MaskSetLoss', num_labels=3,
                             num_points=256, importance_ratio=0.0))
    perfect = torch.where(masks, 20.0, -20.0)[None]
    perfect = torch.nn.functional.interpolate(perfect.float(), size=(8, 8))
    out = loss(torch.randn(1, 2, 3), perfect, [targets[1]],
               [(torch.tensor([0, 1]), torch.tensor([0, 1]))])
    swapped = loss(torch.randn(1, 2, 3), perfect, [targets[1]],
                   [(torch.tensor([1, 0]), torch.tensor([0, 1]))])
    # (zero padding at the map border keeps a little: ~0.05 per mask)
    assert out['loss_dice'].item() < 0.5 < 4.0 < swapped['loss_dice'].item()


def test_label_count_is_checked():
    loss = MODELS.build(dict(type='MaskSetLoss', num_labels=3))
    with pytest.raises(ValueError, match='labels'):
        loss(torch.randn(1, 2, 4), torch.randn(1, 2, 4, 4),
             [(torch.tensor([0]), torch.ones(1, 4, 4, dtype=bool))],
             [(torch.tensor([0]), torch.tensor([0]))])


def test_focal_and_plus_one_dice_functions():
    logits = torch.tensor([[0.0, 2.0, -1.0]])
    target = torch.tensor([[1.0, 0.0, 0.5]])
    p = logits.sigmoid()
    ce = -(target * p.log() + (1 - target) * (1 - p).log())
    p_t = p * target + (1 - p) * (1 - target)
    a_t = 0.25 * target + 0.75 * (1 - target)
    torch.testing.assert_close(sigmoid_focal_loss(logits, target),
                               a_t * (1 - p_t)**2 * ce)
    torch.testing.assert_close(
        mask_dice_loss(logits, target),
        1 - (2 * (p * target).sum(-1) + 1) / (p.sum(-1) + target.sum(-1) + 1))
    # Empty target and empty prediction: no loss.
    assert mask_dice_loss(torch.full((1, 4), -50.0),
                          torch.zeros(1, 4)).item() == pytest.approx(0,
                                                                     abs=1e-6)
    focal = MODELS.build(dict(type='SigmoidFocalLoss', loss_weight=2.0))
    torch.testing.assert_close(
        focal(logits, target, avg_factor=1.0),
        2.0 * sigmoid_focal_loss(logits, target).mean())
