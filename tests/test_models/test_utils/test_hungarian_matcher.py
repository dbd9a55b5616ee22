import itertools

import pytest
import torch
from scipy.optimize import linear_sum_assignment

from mmavs.models.utils.hungarian_matcher import (HungarianMatcher,
                                                  dice_cost, focal_cost,
                                                  semantic_to_targets)
from mmavs.models.utils.point_sample import point_sample


def brute_force_min(cost):
    """Least total cost over every injective map of the G columns into
    the Q rows."""
    num_q, num_g = cost.shape
    return min(
        sum(cost[rows[g], g].item() for g in range(num_g))
        for rows in itertools.permutations(range(num_q), num_g))


def reference_cost(cls_logits, mask_logits, labels, masks, points):
    """Per-pair loops, straight from the formulas of cpm.md §4."""
    prob = cls_logits.softmax(-1)
    pred = point_sample(mask_logits[None], points)[0]
    gt = point_sample(masks.float()[None], points)[0]
    cost = torch.zeros(len(pred), len(gt))
    for q in range(len(pred)):
        p = pred[q].sigmoid()
        for g in range(len(gt)):
            t = gt[g]
            focal = (-(p.log()) * 0.25 * (1 - p)**2 * t -
                     (1 - p).log() * 0.75 * p**2 * (1 - t)).mean()
            dice = 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
            cost[q, g] = (-2.0 * prob[q, labels[g]] + 5.0 * focal +
                          5.0 * dice)
    return cost


@pytest.mark.parametrize('seed', range(4))
def test_matcher_against_brute_force(seed):
    torch.manual_seed(seed)
    num_q, num_g, num_labels = 5, 3, 4
    cls_logits = torch.randn(num_q, num_labels) * 2
    mask_logits = torch.randn(num_q, 6, 6) * 3
    labels = torch.randperm(num_labels - 1)[:num_g]
    masks = torch.rand(num_g, 12, 12) > 0.5
    matcher = HungarianMatcher(num_points=64)
    pred_idx, gt_idx = matcher(cls_logits, mask_logits, labels, masks,
                               generator=torch.Generator().manual_seed(7))
    points = torch.rand(1, 64, 2, generator=torch.Generator().manual_seed(7))
    cost = reference_cost(cls_logits, mask_logits, labels, masks, points)
    computed = matcher.cost_matrix(cls_logits, mask_logits, labels, masks,
                                   torch.Generator().manual_seed(7))
    torch.testing.assert_close(computed, cost, rtol=1e-5, atol=1e-5)
    assert pred_idx.dtype == torch.long and gt_idx.dtype == torch.long
    assert sorted(gt_idx.tolist()) == list(range(num_g))
    assert len(set(pred_idx.tolist())) == num_g
    total = cost[pred_idx, gt_idx].sum().item()
    assert total == pytest.approx(brute_force_min(cost), abs=1e-5)


def test_perfect_predictions_are_found():
    gt = torch.zeros(8, 8, dtype=torch.long)
    gt[:4] = 2
    gt[6:, 6:] = 255
    labels, masks = semantic_to_targets(gt, num_classes=3)
    # Queries 3 and 1 predict class 0 and class 2 exactly; others are noise.
    cls_logits = torch.zeros(4, 4)
    cls_logits[3, 0] = cls_logits[1, 2] = 10
    mask_logits = torch.full((4, 8, 8), -10.0)
    mask_logits[3] = torch.where(masks[0], 10.0, -10.0)
    mask_logits[1] = torch.where(masks[1], 10.0, -10.0)
    pred_idx, gt_idx = HungarianMatcher(num_points=256)(
        cls_logits, mask_logits, labels, masks,
        gt_valid=gt != 255)
    assert dict(zip(gt_idx.tolist(), pred_idx.tolist())) == {0: 3, 1: 1}


def test_empty_ground_truth():
    pred_idx, gt_idx = HungarianMatcher(num_points=16)(
        torch.randn(3, 2), torch.randn(3, 4, 4),
        torch.empty(0, dtype=torch.long), torch.zeros(0, 4, 4, dtype=bool))
    assert pred_idx.numel() == 0 and gt_idx.numel() == 0
    assert pred_idx.dtype == torch.long


def test_non_finite_costs_raise():
    with pytest.raises(ValueError, match='NaN'):
        HungarianMatcher(num_points=16)(
            torch.full((2, 2), float('nan')), torch.randn(2, 4, 4),
            torch.tensor([0]), torch.ones(1, 4, 4, dtype=bool))


def test_semantic_to_targets_background_and_ignore():
    gt = torch.tensor([[0, 0, 3], [255, 3, 1]])
    labels, masks = semantic_to_targets(gt, num_classes=4)
    assert labels.tolist() == [0, 1, 3]
    assert masks.dtype == torch.bool and masks.shape == (3, 2, 3)
    assert not masks[:, 1, 0].any()  # ignored pixel in no mask
    assert masks.sum(0)[gt != 255].eq(1).all()
    with pytest.raises(ValueError):
        semantic_to_targets(gt, num_classes=3)


def test_weighted_costs_ignore_points():
    pred = torch.tensor([[5.0, -5.0, 5.0]])
    gt = torch.tensor([[1.0, 0.0, 0.0]])
    weight = torch.tensor([1.0, 1.0, 0.0])
    torch.testing.assert_close(focal_cost(pred, gt, weight=weight),
                               focal_cost(pred[:, :2], gt[:, :2]))
    torch.testing.assert_close(dice_cost(pred, gt, weight=weight),
                               dice_cost(pred[:, :2], gt[:, :2]))


def test_against_mmdet_costs_if_installed():
    # Skipped without mmdet (or its optional imports, e.g. pycocotools).
    assigners = pytest.importorskip('mmdet.models.task_modules.assigners')
    ClassificationCost = assigners.ClassificationCost
    DiceCost, FocalLossCost = assigners.DiceCost, assigners.FocalLossCost
    HungarianAssigner = assigners.HungarianAssigner
    from mmengine.structures import InstanceData
    torch.manual_seed(0)
    cls_logits = torch.randn(6, 4)
    pred_points = torch.randn(6, 50)
    gt_points = (torch.rand(3, 50) > 0.5).float()
    labels = torch.tensor([0, 2, 1])
    ours = (-2.0 * cls_logits.softmax(-1)[:, labels] +
            5.0 * focal_cost(pred_points, gt_points) +
            5.0 * dice_cost(pred_points, gt_points))
    pred = InstanceData(scores=cls_logits, masks=pred_points)
    gt = InstanceData(labels=labels, masks=gt_points)
    theirs = (ClassificationCost(weight=2.0)(pred, gt) +
              FocalLossCost(weight=5.0, binary_input=True)(pred, gt) +
              DiceCost(weight=5.0, pred_act=True, eps=1.0)(pred, gt))
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
    assigner = HungarianAssigner(match_costs=[
        dict(type='ClassificationCost', weight=2.0),
        dict(type='FocalLossCost', weight=5.0, binary_input=True),
        dict(type='DiceCost', weight=5.0, pred_act=True, eps=1.0)])
    result = assigner.assign(pred, gt, img_meta=None)
    rows, cols = linear_sum_assignment(ours.numpy())
    assert (result.gt_inds > 0).sum().item() == len(rows)
    assert (result.gt_inds[torch.as_tensor(rows)] - 1).tolist() == \
        cols.tolist()
