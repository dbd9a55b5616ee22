"""One-to-one matching of mask predictions to ground-truth masks (CPM §4).

Mask2Former's bipartite matching, written without mmdet (``cpm.md`` §11):
the cost of pairing prediction ``q`` with ground-truth mask ``g`` is

    cost_class · (-p_q(c_g)) + cost_focal · focal(q, g)
                             + cost_dice · dice(q, g)

with the mask costs on points drawn uniformly at random (the same points for
predictions and ground truth), and ``scipy.optimize.linear_sum_assignment``
finds the pairing of least total cost. Ground truth comes from a semantic map
(:func:`semantic_to_targets`: one binary mask per class present). The frame
layout is the one of ``docs/en/architecture.md``; the matcher works on one
frame at a time.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmseg.registry import TASK_UTILS
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from .point_sample import point_sample


def semantic_to_targets(gt: Tensor,
                        num_classes: int,
                        ignore_index: int = 255) -> Tuple[Tensor, Tensor]:
    """Split a semantic map into one binary mask per class present.

    Background (class 0) is a class like any other; ``ignore_index`` pixels
    belong to no mask (so a mask loss without a validity map treats them as
    negatives of every mask, as mmseg's Mask2Former does; pass
    ``gt != ignore_index`` as ``valid`` to :class:`MaskSetLoss` /
    :class:`HungarianMatcher` to leave them out instead).

    Args:
        gt: ``(H, W)`` long class indices in ``[0, num_classes)`` or
            ``ignore_index``.
        num_classes: ``K``, classes including background.
        ignore_index: Label of ignored / padded pixels.

    Returns:
        ``labels (G,)`` long, sorted ascending, and ``masks (G, H, W)`` bool.

    Raises:
        ValueError: a label outside ``[0, num_classes)`` other than
            ``ignore_index``.
    """
    if gt.dim() != 2:
        raise ValueError(f'semantic_to_targets expects (H, W), got '
                         f'{tuple(gt.shape)}')
    labels = torch.unique(gt)
    labels = labels[labels != ignore_index]
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f'labels {labels.tolist()} outside [0, '
                         f'{num_classes}) and not ignore_index '
                         f'{ignore_index}')
    masks = gt[None] == labels[:, None, None]
    return labels.long(), masks


def focal_cost(pred_logits: Tensor, gt: Tensor, alpha: float = 0.25,
               gamma: float = 2.0,
               weight: Optional[Tensor] = None) -> Tensor:
    """Pairwise sigmoid focal cost, averaged over points.

    Args:
        pred_logits: ``(Q, P)`` point logits.
        gt: ``(G, P)`` point targets in ``[0, 1]``.
        weight: Optional ``(P,)`` point weights (0 = ignored); the mean is
            over their sum.

    Returns:
        ``(Q, G)``.
    """
    prob = pred_logits.sigmoid()
    pos = -F.logsigmoid(pred_logits) * alpha * (1 - prob).pow(gamma)
    neg = -F.logsigmoid(-pred_logits) * (1 - alpha) * prob.pow(gamma)
    if weight is None:
        weight = pred_logits.new_ones(pred_logits.shape[1])
    pos, neg = pos * weight, neg * weight
    cost = pos @ gt.t() + neg @ (1 - gt).t()
    return cost / weight.sum().clamp_min(1e-6)


def dice_cost(pred_logits: Tensor, gt: Tensor,
              weight: Optional[Tensor] = None) -> Tensor:
    """Pairwise "+1" Dice cost ``1 - (2Σpg + 1) / (Σp + Σg + 1)``.

    Args:
        pred_logits: ``(Q, P)`` point logits.
        gt: ``(G, P)`` point targets in ``[0, 1]``.
        weight: Optional ``(P,)`` point weights (0 = ignored).

    Returns:
        ``(Q, G)``.
    """
    prob = pred_logits.sigmoid()
    if weight is not None:
        prob, gt = prob * weight, gt * weight
    numerator = 2 * prob @ gt.t()
    denominator = prob.sum(-1)[:, None] + gt.sum(-1)[None, :]
    return 1 - (numerator + 1) / (denominator + 1)


@TASK_UTILS.register_module()
class HungarianMatcher:
    """Match ``Q`` predictions to ``G`` ground-truth masks of one frame.

    Args:
        cost_class: Weight of the class cost ``-softmax(cls_logits)[c]``.
        cost_focal: Weight of the sigmoid focal cost (alpha 0.25, gamma 2).
        cost_dice: Weight of the "+1" Dice cost.
        num_points: Points drawn uniformly for the mask costs (12,544 =
            112², Mask2Former's).
        alpha: Focal alpha.
        gamma: Focal gamma.
    """

    def __init__(self,
                 cost_class: float = 2.0,
                 cost_focal: float = 5.0,
                 cost_dice: float = 5.0,
                 num_points: int = 12544,
                 alpha: float = 0.25,
                 gamma: float = 2.0) -> None:
        self.cost_class = cost_class
        self.cost_focal = cost_focal
        self.cost_dice = cost_dice
        self.num_points = num_points
        self.alpha = alpha
        self.gamma = gamma

    @torch.no_grad()
    def cost_matrix(self,
                    cls_logits: Tensor,
                    mask_logits: Tensor,
                    gt_labels: Tensor,
                    gt_masks: Tensor,
                    generator: Optional[torch.Generator] = None,
                    gt_valid: Optional[Tensor] = None) -> Tensor:
        """The ``(Q, G)`` cost matrix; arguments as :meth:`__call__`."""
        cls_logits = cls_logits.detach().float()
        mask_logits = mask_logits.detach().float()
        prob = cls_logits.softmax(-1)
        cost = -prob[:, gt_labels] * self.cost_class
        points = torch.rand(1, self.num_points, 2, device=mask_logits.device,
                            generator=generator)
        pred = point_sample(mask_logits[None], points)[0]
        gt = point_sample(gt_masks.float()[None], points)[0]
        weight = None
        if gt_valid is not None:
            weight = point_sample(gt_valid.float()[None, None], points)[0, 0]
        cost = cost + self.cost_focal * focal_cost(
            pred, gt, self.alpha, self.gamma, weight)
        cost = cost + self.cost_dice * dice_cost(pred, gt, weight)
        return cost

    def __call__(self,
                 cls_logits: Tensor,
                 mask_logits: Tensor,
                 gt_labels: Tensor,
                 gt_masks: Tensor,
                 generator: Optional[torch.Generator] = None,
                 gt_valid: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Match one frame (no gradient).

        Args:
            cls_logits: ``(Q, L)`` class logits, ``L = K + 1`` (∅ last).
            mask_logits: ``(Q, h, w)`` mask logits (any resolution).
            gt_labels: ``(G,)`` long labels in ``[0, K)``.
            gt_masks: ``(G, H, W)`` bool masks.
            generator: Optional generator (on the masks' device) for the
                uniform points.
            gt_valid: Optional ``(H, W)`` bool; False pixels (padding,
                ignore_index) count in neither mask cost. Default: every
                pixel counts (Mask2Former).

        Returns:
            ``pred_idx (G',)`` and ``gt_idx (G',)`` long on the logits'
            device, ``G' = min(Q, G)`` (normally ``G``), sorted by
            ``pred_idx``: prediction ``pred_idx[i]`` is matched to ground
            truth ``gt_idx[i]``.

        Raises:
            ValueError: a non-finite cost.
        """
        device = cls_logits.device
        if gt_labels.numel() == 0:
            empty = torch.empty(0, dtype=torch.long, device=device)
            return empty, empty.clone()
        cost = self.cost_matrix(cls_logits, mask_logits, gt_labels, gt_masks,
                                generator, gt_valid)
        if not torch.isfinite(cost).all():
            raise ValueError('HungarianMatcher: the cost matrix holds NaN or '
                             'inf (non-finite logits?)')
        rows, cols = linear_sum_assignment(cost.cpu().numpy())
        return (torch.as_tensor(rows, dtype=torch.long, device=device),
                torch.as_tensor(cols, dtype=torch.long, device=device))
