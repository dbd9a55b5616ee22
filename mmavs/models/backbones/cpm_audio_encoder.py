"""CPM's audio encoder: ResNet-18 + audio FPN on the log-mel spectrogram.

``cpm.md`` §2: mmseg's ``ResNet`` (torchvision layout, plain 7x7 stride-2
stem from ``Ca`` channels: 1 mono, 2 stereo) gives four stages (stride 4, 8,
16, 32); :class:`~.audio_fpn.AudioFPN` brings them to ``D`` channels. The
head reads two things from it:

- audio tokens ``A`` for the audio decoder (TD-A): the stride-16 and stride-32
  levels flattened, with a sine positional encoding;
- the dense audio map ``ũ_a`` for ACP / PCL: the stride-4 level upsampled
  bilinearly to the input's ``T × F`` and mixed by a 1x1 conv.
"""
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.models.backbones import ResNet
from mmseg.registry import MODELS
from torch import Tensor, nn

from ..utils.positional_encoding import sine_positional_encoding
from .audio_fpn import AudioFPN


class CPMAudioFeatures(NamedTuple):
    """Output of :class:`CPMAudioEncoder`.

    Attributes:
        tokens: ``(N, L, D)`` audio tokens, the stride-16 level (row-major
            over ``T/16 × F/16``) then the stride-32 level.
        token_pos: ``(N, L, D)`` their sine positional encodings
            (normalised positions, ``D/2`` features per axis, computed per
            level).
        dense: ``(N, D, T, F)`` the dense audio map ``ũ_a``.
    """
    tokens: Tensor
    token_pos: Tensor
    dense: Tensor


@MODELS.register_module()
class CPMAudioEncoder(BaseModule):
    """ResNet + AudioFPN on ``(N, Ca, T, F)`` log-mel spectrograms.

    Shapes (T = 96, F = 64, ResNet-18)::

        (N, Ca, 96, 64) → stages (N, 64, 24, 16), (N, 128, 12, 8),
                                 (N, 256, 6, 4),  (N, 512, 3, 2)
          → FPN levels 0, 2, 3 (stride 4, 16, 32) × (N, D, ·, ·)
          → tokens (N, 6·4 + 3·2 = 30, D), token_pos (N, 30, D),
            dense (N, D, 96, 64)

    (T = 300: stages 75, 38, 19, 10 frames; 19·4 + 10·2 = 96 tokens.) ``N``
    is the number of frames of ``docs/en/architecture.md``.

    ImageNet weights: give ``resnet_cfg=dict(init_cfg=dict(type=
    'Pretrained', checkpoint=...))``; ``conv1`` does not fit (``Ca`` input
    channels instead of 3) and keeps its random init.

    Args:
        in_channels: ``Ca`` (1 mono, 2 stereo).
        embed_dims: ``D`` (256).
        depth: ResNet depth (18).
        num_groups: GroupNorm groups of the FPN (32).
        resnet_cfg: Extra arguments of mmseg's ``ResNet`` (``base_channels``
            for tiny tests, ``norm_cfg``, ``init_cfg``, ...).
        init_cfg: mmengine init config of the whole encoder.
    """

    def __init__(self,
                 in_channels: int = 1,
                 embed_dims: int = 256,
                 depth: int = 18,
                 num_groups: int = 32,
                 resnet_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims % 2:
            raise ValueError('embed_dims must be even (sine encoding)')
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.resnet = ResNet(depth=depth, in_channels=in_channels,
                             out_indices=(0, 1, 2, 3), **(resnet_cfg or {}))
        base = self.resnet.base_channels
        expansion = self.resnet.block.expansion
        stage_channels = [base * 2**i * expansion for i in range(4)]
        # The stride-8 level has no user: no output conv (see AudioFPN).
        self.fpn = AudioFPN(stage_channels, embed_dims, num_groups,
                            out_levels=(0, 2, 3))
        self.dense_proj = nn.Conv2d(embed_dims, embed_dims, 1)

    def forward(self, log_spec: Tensor) -> CPMAudioFeatures:
        """``(N, Ca, T, F)`` log-mel spectrogram → :class:`CPMAudioFeatures`.

        Raises:
            ValueError: not 4-D with ``in_channels`` channels.
        """
        if log_spec.dim() != 4 or log_spec.shape[1] != self.in_channels:
            raise ValueError(
                f'CPMAudioEncoder expects (N, {self.in_channels}, T, F) '
                f'log-mel spectrograms, got {tuple(log_spec.shape)}')
        levels = self.fpn(self.resnet(log_spec))
        tokens, pos = [], []
        for level in levels[1:]:
            n, _, h, w = level.shape
            mask = torch.zeros(n, h, w, dtype=torch.bool,
                               device=level.device)
            enc = sine_positional_encoding(mask, self.embed_dims // 2,
                                           normalize=True)
            tokens.append(level.flatten(2).transpose(1, 2))
            pos.append(enc.to(level.dtype).flatten(2).transpose(1, 2))
        dense = F.interpolate(levels[0], size=log_spec.shape[-2:],
                              mode='bilinear', align_corners=False)
        return CPMAudioFeatures(tokens=torch.cat(tokens, 1),
                                token_pos=torch.cat(pos, 1),
                                dense=self.dense_proj(dense))
