"""Feature pyramid over the stages of an audio ResNet (CPM, ``cpm.md`` §2)."""
from typing import List, Optional, Sequence

import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class AudioFPN(BaseModule):
    """Lateral 1x1 convs to ``out_channels``, top-down addition (nearest
    upsampling to the finer level's size, which need not be exactly twice
    the coarser one: T = 300 gives 75, 38, 19, 10 frames), then a 3x3 conv +
    GroupNorm + ReLU per output level.

    Shapes::

        feats  4 × (N, C_i, T_i, F_i)  (stride 4, 8, 16, 32)
        → outs, one per ``out_levels``: (N, out_channels, T_i, F_i)

    Args:
        in_channels: ``C_i`` of the stages (ResNet-18: 64, 128, 256, 512).
        out_channels: Width of every level (256).
        num_groups: GroupNorm groups (32).
        out_levels: Levels (0 = finest) that get an output conv and are
            returned, in this order (default: all). CPM uses (0, 2, 3): a
            level without a user would leave parameters without gradient,
            which DDP refuses (its lateral still feeds the top-down path).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 128, 256, 512),
                 out_channels: int = 256,
                 num_groups: int = 32,
                 out_levels: Optional[Sequence[int]] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.laterals = nn.ModuleList(
            nn.Conv2d(c, out_channels, 1) for c in in_channels)
        norm_cfg = dict(type='GN', num_groups=num_groups, requires_grad=True)
        if out_levels is None:
            out_levels = range(len(in_channels))
        if not out_levels or any(not 0 <= i < len(in_channels)
                                 for i in out_levels):
            raise ValueError(f'out_levels {tuple(out_levels)} must name '
                             f'levels of 0..{len(in_channels) - 1}')
        self.out_levels = tuple(out_levels)
        self.outputs = nn.ModuleList(
            ConvModule(out_channels, out_channels, 3, padding=1,
                       norm_cfg=norm_cfg, act_cfg=dict(type='ReLU'))
            for _ in self.out_levels)

    def forward(self, feats: Sequence[Tensor]) -> List[Tensor]:
        """``4 × (N, C_i, T_i, F_i)`` (finest first) → one ``(N,
        out_channels, T_i, F_i)`` per ``out_levels``."""
        if len(feats) != len(self.laterals):
            raise ValueError(f'AudioFPN expects {len(self.laterals)} levels, '
                             f'got {len(feats)}')
        lats = [conv(x) for conv, x in zip(self.laterals, feats)]
        for i in range(len(lats) - 2, -1, -1):
            lats[i] = lats[i] + F.interpolate(
                lats[i + 1], size=lats[i].shape[-2:], mode='nearest')
        return [conv(lats[i]) for conv, i in zip(self.outputs,
                                                 self.out_levels)]
