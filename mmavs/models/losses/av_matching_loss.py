"""The audio-visual matching loss of AVSBench's MS3 setting."""
from typing import Dict, List, Optional

import torch
from mmseg.registry import MODELS
from torch import Tensor, nn
from torch.nn import functional as F

from mmavs.structures import ClipLayout


@MODELS.register_module()
class AVMatchingLoss(nn.Module):
    """KL between mask-pooled visual features and the audio, per level.

    At each fused level: average-pool the predicted logits to the level's
    size, take the sigmoid, average the level's visual map under that soft
    mask, and compute ``KL(log_softmax(visual) ‖ softmax(audio))`` summed
    over frames and channels; the levels are averaged.

    Args:
        loss_weight: Weight of the loss (0.5 in AVSBench MS3).
        loss_name: Key in the loss dict.
    """

    def __init__(self, loss_weight: float = 0.5,
                 loss_name: str = 'loss_av_match') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, seg_logits: Tensor, visual: List[Tensor], extras: Dict,
                layout: Optional[ClipLayout] = None,
                data_samples: Optional[list] = None) -> Tensor:
        """Compute the loss (the common auxiliary-loss interface of
        :class:`AVSSegmentor`, ``docs/en/architecture.md``).

        Args:
            seg_logits: ``(N, 1, H, W)`` predicted logits.
            visual: Per level ``(N, C, H_l, W_l)`` fused maps, as the
                decode head leaves them (``decode_head.aux_maps``: ReLU'd
                by the reference TPAVI decoder).
            extras: The neck's extras; ``level_audio``, per level ``(N, C)``
                aligned audio, ``None`` for levels without audio-visual
                fusion (skipped).
            layout, data_samples: Unused (every frame counts, as in the
                reference).
        """
        level_audio = extras.get('level_audio')
        if level_audio is None:
            raise ValueError('AVMatchingLoss needs a neck that returns '
                             'level_audio (e.g. TPAVINeck)')
        terms = []
        for v_map, audio in zip(visual, level_audio):
            if audio is None:
                continue
            mask = torch.sigmoid(
                F.adaptive_avg_pool2d(seg_logits, v_map.shape[-2:]))
            pooled = (v_map * mask).sum((-2, -1)) / (
                mask.sum((-2, -1)) + 1e-6)
            terms.append(
                F.kl_div(F.log_softmax(pooled, dim=-1),
                         F.softmax(audio, dim=-1), reduction='sum'))
        if not terms:
            raise ValueError('AVMatchingLoss needs at least one fused level')
        return self.loss_weight * torch.stack(terms).mean()
