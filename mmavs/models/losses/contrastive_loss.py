"""The conditional contrastive loss of DiffusionAVS (Eq. 11)."""
from typing import Optional

import torch
from mmseg.registry import MODELS
from torch import Tensor, nn
from torch.nn import functional as F


@MODELS.register_module()
class ContrastiveLoss(nn.Module):
    """InfoNCE between conditions and ground-truth latents of annotated frames.

    For frame i the anchor is its condition ``c_i``, the positive its latent
    ``z0_i`` and the negatives the latents ``z0_j`` of the other frames of the
    mini-batch; the score is ``exp(cos(c_i, z_j) / tau)``::

        L = mean_i -log( f(c_i, z_i) / (f(c_i, z_i) + Σ_j∈neg(i) f(c_i, z_j)) )

    Gradients reach both encoders.

    Args:
        temperature: tau (1 in the paper).
        exclude_same_clip: Leave frames of the anchor's own clip out of its
            negatives (default; they are near-duplicates of the positive).
            ``False`` is the paper-literal variant.
        loss_weight: lambda_2 (0.1 in the paper).
        loss_name: Key in the loss dict.
    """

    def __init__(self,
                 temperature: float = 1.0,
                 exclude_same_clip: bool = True,
                 loss_weight: float = 0.1,
                 loss_name: str = 'loss_contrastive') -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError('temperature must be positive')
        self.temperature = temperature
        self.exclude_same_clip = exclude_same_clip
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, condition: Tensor, latent: Tensor,
                clip_ids: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            condition: ``(N, D)`` conditions c of the annotated frames.
            latent: ``(N, D)`` ground-truth latents z0 of the same frames.
            clip_ids: ``(N,)`` clip of each frame, needed when
                ``exclude_same_clip`` is set.

        Returns:
            Tensor: The weighted scalar loss (0 when no frame has a negative).
        """
        if condition.shape != latent.shape or condition.dim() != 2:
            raise ValueError(f'condition {tuple(condition.shape)} and latent '
                             f'{tuple(latent.shape)} must both be (N, D)')
        scores = F.normalize(condition, dim=1) @ F.normalize(latent, dim=1).T
        scores = scores / self.temperature
        keep = torch.ones_like(scores, dtype=torch.bool)
        if self.exclude_same_clip:
            if clip_ids is None:
                raise ValueError('exclude_same_clip needs clip_ids')
            keep = clip_ids[:, None] != clip_ids[None, :]
        keep.fill_diagonal_(True)  # the positive always stays
        scores = scores.masked_fill(~keep, float('-inf'))
        # -log softmax of the positive over {positive} ∪ negatives.
        loss = torch.logsumexp(scores, dim=1) - scores.diagonal()
        return self.loss_weight * loss.mean()
