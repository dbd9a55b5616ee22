"""Set loss of mask predictions after matching (Mask2Former's, CPM §4).

One call covers one prediction set of a batch (deep supervision calls it per
decoder layer and sums). The matching is the caller's (a
:class:`~mmavs.models.utils.hungarian_matcher.HungarianMatcher` for the
class-agnostic queries, a fixed assignment for CPM's VCP prompts), so the
same loss serves both.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine import dist
from mmseg.registry import MODELS
from torch import Tensor, nn

from ..utils.point_sample import point_sample, uncertain_points
from .dice_loss import mask_dice_loss
from .focal_loss import sigmoid_focal_loss


@MODELS.register_module()
class MaskSetLoss(nn.Module):
    """Class cross-entropy + point-sampled focal and Dice mask losses.

    - ``loss_cls``: cross-entropy over ``L`` labels of every query of every
      frame; unmatched queries (and every query of a frame without ground
      truth) are labelled ∅ (``L - 1``) and weighted ``no_object_weight``;
      weighted mean (``Σ w_i CE_i / Σ w_i``), times ``cls_weight``.
    - ``loss_focal`` / ``loss_dice``: on ``num_points`` points per matched
      pair chosen by :func:`uncertain_points` on the predicted mask; sigmoid
      focal (mean over points) and "+1" Dice per pair, summed and divided by
      the number of ground-truth masks in the batch (averaged over processes
      when distributed, at least 1); times ``focal_weight`` / ``dice_weight``.

    Without any matched pair the mask losses are ``0 * mask_logits.sum()``:
    zero, but still in the graph (DDP needs every parameter used).

    Args:
        num_labels: ``L = K + 1`` labels; ∅ is ``K = L - 1``.
        no_object_weight: CE weight of ∅ (0.1).
        cls_weight: Weight of ``loss_cls`` (2.0).
        focal_weight: Weight of ``loss_focal`` (5.0).
        dice_weight: Weight of ``loss_dice`` (5.0).
        num_points: Points per mask (12,544).
        oversample_ratio: See :func:`uncertain_points` (3.0).
        importance_ratio: See :func:`uncertain_points` (0.75).
        alpha: Focal alpha (0.25).
        gamma: Focal gamma (2.0).
    """

    def __init__(self,
                 num_labels: int,
                 no_object_weight: float = 0.1,
                 cls_weight: float = 2.0,
                 focal_weight: float = 5.0,
                 dice_weight: float = 5.0,
                 num_points: int = 12544,
                 oversample_ratio: float = 3.0,
                 importance_ratio: float = 0.75,
                 alpha: float = 0.25,
                 gamma: float = 2.0) -> None:
        super().__init__()
        if num_labels < 2:
            raise ValueError('num_labels counts the classes and ∅: >= 2')
        self.num_labels = num_labels
        self.cls_weight = cls_weight
        self.focal_weight = focal_weight
        self.dice_weight = dice_weight
        self.num_points = num_points
        self.oversample_ratio = oversample_ratio
        self.importance_ratio = importance_ratio
        self.alpha = alpha
        self.gamma = gamma
        class_weight = torch.ones(num_labels)
        class_weight[-1] = no_object_weight
        self.register_buffer('class_weight', class_weight, persistent=False)

    def forward(self,
                cls_logits: Tensor,
                mask_logits: Tensor,
                targets: Sequence[Tuple[Tensor, ...]],
                indices: Sequence[Tuple[Tensor, Tensor]],
                generator: Optional[torch.Generator] = None
                ) -> Dict[str, Tensor]:
        """Args:
            cls_logits: ``(B, Q, L)`` class logits of ``B`` frames.
            mask_logits: ``(B, Q, h, w)`` mask logits (stride 4 in CPM).
            targets: ``B`` tuples ``(labels (G_b,) long, masks (G_b, H, W)
                bool)``, optionally with a third element ``valid (H, W)``
                bool: pixels where it is False (padding, ``ignore_index``)
                count in no mask loss. Without it every pixel counts and
                a pixel in no mask is a negative of every mask (Mask2Former).
            indices: ``B`` pairs ``(pred_idx (n_b,), gt_idx (n_b,))`` long:
                query ``pred_idx[i]`` is matched to ground truth
                ``gt_idx[i]``.
            generator: Optional generator (on the logits' device) for the
                points.

        Returns:
            ``dict(loss_cls=, loss_focal=, loss_dice=)``, each a scalar,
            already weighted.
        """
        num_frames, num_queries, num_labels = cls_logits.shape
        if num_labels != self.num_labels:
            raise ValueError(f'cls_logits has {num_labels} labels, the loss '
                             f'{self.num_labels}')
        if len(targets) != num_frames or len(indices) != num_frames:
            raise ValueError(f'{num_frames} frames but {len(targets)} '
                             f'targets and {len(indices)} index pairs')
        device = cls_logits.device
        target_classes = torch.full((num_frames, num_queries),
                                    num_labels - 1, dtype=torch.long,
                                    device=device)
        for b, ((labels, *_), (pred_idx, gt_idx)) in enumerate(
                zip(targets, indices)):
            target_classes[b, pred_idx.to(device)] = \
                labels.to(device)[gt_idx.to(device)]
        loss_cls = F.cross_entropy(
            cls_logits.float().flatten(0, 1), target_classes.flatten(),
            weight=self.class_weight.to(device))

        num_masks = self._num_masks(targets, device)
        loss_focal, loss_dice = self._mask_losses(mask_logits, targets,
                                                  indices, num_masks,
                                                  generator)
        return dict(loss_cls=self.cls_weight * loss_cls,
                    loss_focal=self.focal_weight * loss_focal,
                    loss_dice=self.dice_weight * loss_dice)

    @staticmethod
    def _num_masks(targets: Sequence[Tuple[Tensor, ...]],
                   device: torch.device) -> float:
        count = torch.tensor(float(sum(len(t[0]) for t in targets)),
                             device=device)
        if dist.is_distributed():
            dist.all_reduce(count, op='mean')
        return max(count.item(), 1.0)

    def _mask_losses(self, mask_logits: Tensor,
                     targets: Sequence[Tuple[Tensor, ...]],
                     indices: Sequence[Tuple[Tensor, Tensor]],
                     num_masks: float,
                     generator: Optional[torch.Generator]
                     ) -> Tuple[Tensor, Tensor]:
        device = mask_logits.device
        frames: List[int] = []
        preds: List[Tensor] = []
        for b, (pred_idx, _) in enumerate(indices):
            if len(pred_idx):
                frames.append(b)
                preds.append(mask_logits[b, pred_idx.to(device)])
        if not preds:
            zero = mask_logits.sum() * 0.0
            return zero, zero.clone()
        src = torch.cat(preds).float()[:, None]  # (n, 1, h, w)
        points = uncertain_points(src, self.num_points,
                                  self.oversample_ratio,
                                  self.importance_ratio, generator)
        src_points = point_sample(src, points)[:, 0]  # (n, P)
        gts, weights, start = [], [], 0
        for b in frames:
            _, gt_idx = indices[b]
            target = targets[b]
            masks = target[1].to(device)[gt_idx.to(device)]
            n = len(gt_idx)
            frame_points = points[start:start + n]
            start += n
            gts.append(point_sample(masks[:, None].float(),
                                    frame_points)[:, 0])
            if len(target) > 2 and target[2] is not None:
                valid = target[2].to(device).float()[None, None]
                valid = valid.expand(n, 1, *valid.shape[-2:])
                weights.append(point_sample(valid, frame_points)[:, 0])
            else:
                weights.append(src_points.new_ones(n, self.num_points))
        gt_points = torch.cat(gts)
        weight = torch.cat(weights)
        focal = sigmoid_focal_loss(src_points, gt_points, self.alpha,
                                   self.gamma)
        focal = (focal * weight).sum(-1) / weight.sum(-1).clamp_min(1e-6)
        dice = mask_dice_loss(src_points, gt_points, weight)
        return focal.sum() / num_masks, dice.sum() / num_masks
