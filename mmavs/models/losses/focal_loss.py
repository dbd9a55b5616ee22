"""Sigmoid focal loss on points (Mask2Former-style mask loss, CPM §4)."""
from typing import Optional

import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor, nn


def sigmoid_focal_loss(logits: Tensor, targets: Tensor, alpha: float = 0.25,
                       gamma: float = 2.0) -> Tensor:
    """Element-wise sigmoid focal loss (Lin et al.), soft targets allowed::

        p_t = p·t + (1 - p)(1 - t);   a_t = α·t + (1 - α)(1 - t)
        FL  = a_t (1 - p_t)^γ · BCE(logit, t)

    Args:
        logits: Logits of any shape, e.g. ``(M, P)`` masks × points.
        targets: Same shape, in ``[0, 1]`` (bilinearly sampled binary
            masks are fractional at boundaries).
        alpha: Weight of positives (negative: no alpha weighting).
        gamma: Focusing exponent.

    Returns:
        Same shape as ``logits``, no reduction.
    """
    targets = targets.to(logits.dtype)
    prob = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, targets,
                                            reduction='none')
    p_t = prob * targets + (1 - prob) * (1 - targets)
    loss = ce * (1 - p_t).pow(gamma)
    if alpha >= 0:
        loss = loss * (alpha * targets + (1 - alpha) * (1 - targets))
    return loss


@MODELS.register_module()
class SigmoidFocalLoss(nn.Module):
    """Sigmoid focal loss of masks sampled at points: the mean over the
    (weighted) points of each mask, summed over masks and divided by
    ``avg_factor`` (Mask2Former: the number of ground-truth masks).

    Args:
        alpha: Focal alpha (0.25).
        gamma: Focal gamma (2).
        loss_weight: Weight of the loss.
        loss_name: Key in a loss dict.
    """

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_focal') -> None:
        super().__init__()
        self.alpha = alpha
        self.gamma = gamma
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, logits: Tensor, targets: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None) -> Tensor:
        """Args:
            logits: ``(M, P)`` point logits.
            targets: ``(M, P)`` in ``[0, 1]``.
            weight: Optional ``(M, P)`` point weights (0 = ignored point).
            avg_factor: Divisor of the sum over masks (default ``M``).
        """
        loss = sigmoid_focal_loss(logits, targets, self.alpha, self.gamma)
        if weight is None:
            per_mask = loss.mean(-1)
        else:
            weight = weight.to(loss.dtype).expand_as(loss)
            per_mask = (loss * weight).sum(-1) / weight.sum(-1).clamp_min(
                1e-6)
        if avg_factor is None:
            avg_factor = max(per_mask.numel(), 1)
        return self.loss_weight * per_mask.sum() / avg_factor
