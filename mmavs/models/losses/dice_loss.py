"""Dice losses on logits: AVSegFormer's binary form (:class:`BinaryDiceLoss`),
its softmax form over the classes of each frame (:class:`MultiClassDiceLoss`)
and Mask2Former's "+1" form on points (:func:`mask_dice_loss`, CPM)."""
from typing import Optional

import torch
from mmseg.registry import MODELS
from torch import Tensor, nn


class DiceLossBase(nn.Module):
    """``eps``, ``loss_weight``, ``loss_name`` and the Dice term
    ``1 - 2 Σpg / (Σp² + eps + Σg² + eps)`` over the last two dims."""

    def __init__(self, eps: float = 1e-3, loss_weight: float = 1.0,
                 loss_name: str = 'loss_dice') -> None:
        super().__init__()
        self.eps = eps
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def dice(self, prob: Tensor, truth: Tensor) -> Tensor:
        """``(..., H, W)`` probabilities and truth → ``(...)`` terms."""
        inter = (prob * truth).sum(dim=(-2, -1))
        denom = ((prob * prob).sum(dim=(-2, -1)) + self.eps +
                 (truth * truth).sum(dim=(-2, -1)) + self.eps)
        return 1 - 2 * inter / denom


@MODELS.register_module()
class BinaryDiceLoss(DiceLossBase):
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
        super().__init__(eps, loss_weight, loss_name)
        if foreground not in ('one', 'nonzero'):
            raise ValueError(f'foreground must be "one" or "nonzero", not '
                             f'"{foreground}"')
        self.foreground = foreground

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
        return self.loss_weight * torch.mean(self.dice(prob, truth))


@MODELS.register_module()
class MultiClassDiceLoss(DiceLossBase):
    """Per-frame, per-class Dice of softmax probabilities::

        p = softmax(logits)[c];  g = (target == c)
        L_fc = 1 - 2 Σpg / (Σp² + eps + Σg² + eps)      (sums over pixels)
        L = mean of L_fc over the (frame f, class c) pairs with c in f's
            ground truth

    Every class a frame holds counts once, whatever its area, so a small
    sounding object weighs as much as the background; under pixel-averaged
    cross-entropy alone a semantic head on AVSS-like data first predicts
    background everywhere (background covers most pixels). A class
    predicted where it is absent costs through the softmax: the
    probability it takes lowers the Dice of the classes that are there
    (the background among them). The form of each term is
    :class:`BinaryDiceLoss`'s (squared sums, AVSegFormer's eps).

    Only the classes present in the batch's truth are gathered, so memory
    grows with those, not with the number of classes.

    Args:
        eps: Added to each squared sum.
        loss_weight: Weight of the loss.
        loss_name: Key in the loss dict.
    """

    def forward(self, logits: Tensor, target: Tensor,
                ignore_index: int = 255, **kwargs) -> Tensor:
        """Args:
            logits: ``(N, K, H, W)`` class logits.
            target: ``(N, H, W)`` class indices or ``ignore_index``.
        """
        valid = target != ignore_index
        labels = target.where(valid, torch.zeros_like(target))
        classes = labels[valid].unique()
        if classes.numel() == 0:  # every pixel ignored
            return logits.sum() * 0
        prob = logits.float().softmax(dim=1)[:, classes]  # (N, K', H, W)
        mask = valid.unsqueeze(1).to(prob.dtype)
        prob = prob * mask
        truth = (labels.unsqueeze(1) == classes.view(1, -1, 1, 1)).to(
            prob.dtype) * mask
        dice = self.dice(prob, truth)  # (N, K')
        present = truth.sum(dim=(2, 3)) > 0
        loss = dice[present].mean()
        return self.loss_weight * loss.to(logits.dtype)


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
