"""Softmax Dice loss over the classes of each frame (semantic heads)."""
import torch
from mmseg.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class MultiClassDiceLoss(nn.Module):
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

    def __init__(self, eps: float = 1e-3, loss_weight: float = 1.0,
                 loss_name: str = 'loss_dice') -> None:
        super().__init__()
        self.eps = eps
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

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
        inter = (prob * truth).sum(dim=(2, 3))
        denom = ((prob * prob).sum(dim=(2, 3)) + self.eps +
                 (truth * truth).sum(dim=(2, 3)) + self.eps)
        dice = 1 - 2 * inter / denom  # (N, K')
        present = truth.sum(dim=(2, 3)) > 0
        loss = dice[present].mean()
        return self.loss_weight * loss.to(logits.dtype)
