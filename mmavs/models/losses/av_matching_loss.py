"""The audio-visual matching loss of AVSBench (MS3 binary, AVSS semantic)."""
from typing import Dict, List, Optional

import torch
from mmseg.registry import MODELS
from torch import Tensor, nn
from torch.nn import functional as F

from mmavs.structures import ClipLayout


@MODELS.register_module()
class AVMatchingLoss(nn.Module):
    """KL between mask-pooled visual features and the audio, per level.

    ``mode='binary'`` (AVSBench MS3, one logit channel): at each fused level,
    average-pool the predicted logits to the level's size, take the
    sigmoid, average the level's visual map under that soft mask, and
    compute ``KL(log_softmax(visual) ‖ softmax(audio))`` summed over frames
    and channels; the levels are averaged. Every frame counts.

    ``mode='semantic'`` (AVSBench AVSS, C logit channels, the reference's
    ``A_MaskedV_SimmLoss`` with ``kl_flag``): the foreground is the hard
    mask ``argmax ≠ background_index`` (no gradient through it); at each
    level it is average-pooled to the level's size, the visual map is
    multiplied by it and averaged over all H_l·W_l positions (not divided
    by the mask area, as the reference), and the KL summed over channels
    is averaged over the frames the layout marks ``annotated`` (the
    reference weights frames by its supervision flag); the levels are
    averaged.

    Args:
        loss_weight: Weight of the loss (0.5 in AVSBench MS3 and AVSS).
        loss_name: Key in the loss dict.
        mode: ``'binary'`` or ``'semantic'``.
        background_index: Class that is not foreground in semantic mode
            (0, as ``avss.md`` §2 decides; the published reference code
            compares with ``C - 1``, the same slip as its ``*_noBg``
            metrics).
    """

    def __init__(self, loss_weight: float = 0.5,
                 loss_name: str = 'loss_av_match',
                 mode: str = 'binary',
                 background_index: int = 0) -> None:
        super().__init__()
        if mode not in ('binary', 'semantic'):
            raise ValueError(f'mode must be "binary" or "semantic", not '
                             f'"{mode}"')
        self.loss_weight = loss_weight
        self._loss_name = loss_name
        self.mode = mode
        self.background_index = background_index

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, seg_logits: Tensor, visual: List[Tensor], extras: Dict,
                layout: Optional[ClipLayout] = None,
                data_samples: Optional[list] = None) -> Tensor:
        """Compute the loss (the common auxiliary-loss interface of
        :class:`AVSSegmentor`, ``docs/en/architecture.md``).

        Args:
            seg_logits: ``(N, 1, H, W)`` (binary) or ``(N, C, H, W)``
                (semantic) predicted logits.
            visual: Per level ``(N, C, H_l, W_l)`` fused maps, as the
                decode head leaves them (``decode_head.aux_maps``: ReLU'd
                by the reference TPAVI decoder).
            extras: The neck's extras; ``level_audio``, per level ``(N, C)``
                aligned audio, ``None`` for levels without audio-visual
                fusion (skipped).
            layout: The clip layout; semantic mode averages over its
                ``annotated`` frames (binary mode: every frame counts, as
                in the MS3 reference).
            data_samples: Unused.
        """
        level_audio = extras.get('level_audio')
        if level_audio is None:
            raise ValueError('AVMatchingLoss needs a neck that returns '
                             'level_audio (e.g. TPAVINeck)')
        if self.mode == 'semantic':
            return self._semantic(seg_logits, visual, level_audio, layout)
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

    def _semantic(self, seg_logits: Tensor, visual: List[Tensor],
                  level_audio: List[Optional[Tensor]],
                  layout: Optional[ClipLayout]) -> Tensor:
        """The AVSS form (see the class docstring)."""
        if seg_logits.shape[1] < 2:
            raise ValueError('AVMatchingLoss(mode="semantic") needs C > 1 '
                             f'logit channels, got {seg_logits.shape[1]}')
        with torch.no_grad():
            foreground = (seg_logits.argmax(1, keepdim=True) !=
                          self.background_index).to(seg_logits.dtype)
        if layout is None:
            weight = seg_logits.new_ones(seg_logits.shape[0])
        else:
            weight = layout.annotated.to(seg_logits.device,
                                         seg_logits.dtype)
        terms = []
        for v_map, audio in zip(visual, level_audio):
            if audio is None:
                continue
            mask = F.adaptive_avg_pool2d(foreground, v_map.shape[-2:])
            pooled = (v_map * mask.to(v_map.dtype)).mean((-2, -1))
            kl = F.kl_div(F.log_softmax(pooled, dim=-1),
                          F.softmax(audio, dim=-1), reduction='none').sum(-1)
            # No annotated frame: a zero that keeps the graph (DDP).
            terms.append((kl * weight).sum() / weight.sum().clamp_min(1))
        if not terms:
            raise ValueError('AVMatchingLoss needs at least one fused level')
        return self.loss_weight * torch.stack(terms).mean()
