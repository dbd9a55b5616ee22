"""Dice losses on logits: AVSegFormer's binary form (:class:`BinaryDiceLoss`)
and Mask2Former's "+1" form on points (:func:`mask_dice_loss`, CPM)."""
from typing import Optional

import torch
from mmseg.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class BinaryDiceLoss(nn.Module):
    """Per-sample Dice loss of a one-channel logit map, averaged::

        p = sigmoid(logit);  L = 1 - 2 Σpg / (Σp² + eps + Σg² + eps)

    Pixels labelled ``ignore_index`` are left out of every sum. The truth
    ``g`` is ``target == 1`` (binary masks) or, with ``foreground=
    'nonzero'``, every class but 0 (AVSegFormer's AVSS mix loss on class
    maps).

    (mmseg's ``DiceLoss`` one-hot encodes a one-channel prediction as the
    background class, so it does not fit a foreground logit.)

    Args:
        eps: Added to each squared sum (AVSegFormer: 0.001).
        loss_weight: Weight of the loss.
        loss_name: Key in the loss dict.
        foreground: ``'one'`` (label 1) or ``'nonzero'`` (any label but 0).
    """

    def __init__(self, eps: float = 1e-3, loss_weight: float = 1.0,
                 loss_name: str = 'loss_dice',
                 foreground: str = 'one') -> None:
        super().__init__()
        if foreground not in ('one', 'nonzero'):
            raise ValueError(f'foreground must be "one" or "nonzero", not '
                             f'"{foreground}"')
        self.foreground = foreground
        self.eps = eps
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, logits: Tensor, target: Tensor,
                ignore_index: int = 255, **kwargs) -> Tensor:
        """Args:
            logits: ``(N, 1, H, W)`` (or ``(N, H, W)``).
            target: ``(N, H, W)`` in {0, 1} (or class indices with
                ``foreground='nonzero'``) or ``ignore_index``.
        """
        logits = logits.reshape(target.shape)
        valid = (target != ignore_index).to(logits.dtype)
        prob = logits.sigmoid() * valid
        truth = (target == 1) if self.foreground == 'one' else (target != 0)
        truth = truth.to(logits.dtype) * valid
        inter = (prob * truth).flatten(1).sum(1)
        denom = ((prob * prob).flatten(1).sum(1) + self.eps +
                 (truth * truth).flatten(1).sum(1) + self.eps)
        return self.loss_weight * torch.mean(1 - 2 * inter / denom)


def mask_dice_loss(logits: Tensor, targets: Tensor,
                   weight: Optional[Tensor] = None) -> Tensor:
    """Mask2Former's "+1" Dice loss, one value per mask::

        p = sigmoid(logit);  L = 1 - (2 Σpg + 1) / (Σp + Σg + 1)

    (no squares, +1 smoothing: an empty target and an empty prediction give
    0; the form of ``cpm.md`` §4).

    Args:
        logits: ``(M, P)`` logits of ``M`` masks at ``P`` points (or pixels).
        targets: ``(M, P)`` targets in ``[0, 1]``.
        weight: Optional ``(M, P)`` (or broadcastable) point weights; a point
            of weight 0 (padding, ignored) counts in no sum.

    Returns:
        ``(M,)``.
    """
    prob = logits.sigmoid()
    targets = targets.to(prob.dtype)
    if weight is not None:
        prob, targets = prob * weight, targets * weight
    numerator = 2 * (prob * targets).sum(-1)
    denominator = prob.sum(-1) + targets.sum(-1)
    return 1 - (numerator + 1) / (denominator + 1)
