"""Mask2Former's pixel decoder on the package's pure-PyTorch deformable
attention (``cpm.md`` §2)."""
from typing import List, NamedTuple, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .deformable_encoder import DeformableEncoder
from .positional_encoding import sine_positional_encoding


def conv_gn(in_channels: int, out_channels: int, kernel_size: int,
            num_groups: int, relu: bool = False) -> nn.Sequential:
    """``kernel_size`` conv (same padding, no bias) + GroupNorm (+ ReLU)."""
    layers = [
        nn.Conv2d(in_channels, out_channels, kernel_size,
                  padding=kernel_size // 2, bias=False),
        nn.GroupNorm(num_groups, out_channels)
    ]
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class PixelDecoderOutput(NamedTuple):
    """What the pixel decoder gives the mask head and the visual decoder.

    Attributes:
        mask_feature: ``(N, E, H/4, W/4)``, the stride-4 map ũ_v.
        levels: The stride-32, -16 and -8 maps (P5, P4, P3), each
            ``(N, E, H_l, W_l)``, in the order the visual decoder cycles
            through them.
        level_pos: Their positional encodings (sine + level embedding),
            each ``(N, E, H_l, W_l)``.
    """
    mask_feature: Tensor
    levels: List[Tensor]
    level_pos: List[Tensor]


class MSDeformPixelDecoder(nn.Module):
    """Multi-scale deformable encoder over C3..C5 plus an FPN step to C2.

    Call graph (N frames, E = ``embed_dims``)::

        forward([C2, C3, C4, C5])
          input_convs: 1×1 conv + GN on C5, C4, C3      3×(N, E, H_l, W_l)
          pos = sine(normalised, E/2 per axis) + level_embed[l]
          encoder (6 deformable layers, ReLU FFN)         (N, Σ H_l W_l, E)
          split back → P5, P4, P3
          lateral(C2) + up(P3) → 3×3 conv + GN + ReLU     (N, E, H/4, W/4)
          mask_feature: 1×1 conv                          ũ_v

    Args:
        in_channels: Channels of C2..C5.
        embed_dims: E (256).
        num_layers: Encoder layers (6).
        num_heads, num_points: Deformable attention (8, 4).
        ffn_dims: Encoder FFN width (1024).
        dropout: Encoder dropout (0).
        num_groups: GroupNorm groups (32).
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 embed_dims: int = 256,
                 num_layers: int = 6,
                 num_heads: int = 8,
                 num_points: int = 4,
                 ffn_dims: int = 1024,
                 dropout: float = 0.0,
                 num_groups: int = 32) -> None:
        super().__init__()
        if len(in_channels) != 4:
            raise ValueError(f'MSDeformPixelDecoder takes C2..C5, got '
                             f'in_channels={list(in_channels)}')
        self.num_levels = 3
        # C5, C4, C3: the encoder's level order (low resolution first).
        self.input_convs = nn.ModuleList(
            conv_gn(c, embed_dims, 1, num_groups)
            for c in reversed(in_channels[1:]))
        self.level_embed = nn.Parameter(
            torch.empty(self.num_levels, embed_dims))
        self.encoder = DeformableEncoder(
            num_layers, embed_dims=embed_dims, num_levels=self.num_levels,
            num_heads=num_heads, num_points=num_points, ffn_dims=ffn_dims,
            dropout=dropout, activation='relu')
        self.lateral_conv = conv_gn(in_channels[0], embed_dims, 1,
                                    num_groups)
        self.output_conv = conv_gn(embed_dims, embed_dims, 3, num_groups,
                                   relu=True)
        self.mask_feature = nn.Conv2d(embed_dims, embed_dims, 1)
        nn.init.normal_(self.level_embed)
        for conv in (*self.input_convs, self.lateral_conv, self.output_conv):
            nn.init.xavier_uniform_(conv[0].weight)

    def positional_encodings(self, levels: List[Tensor]) -> List[Tensor]:
        """Normalised sine encoding plus the level embedding, per level."""
        out = []
        for level, x in enumerate(levels):
            mask = x.new_zeros((x.shape[0], ) + x.shape[-2:],
                               dtype=torch.bool)
            pos = sine_positional_encoding(mask, num_feats=x.shape[1] // 2,
                                           normalize=True).to(x.dtype)
            out.append(pos + self.level_embed[level][None, :, None, None])
        return out

    def forward(self, feats: List[Tensor]) -> PixelDecoderOutput:
        """``feats``: C2..C5, each ``(N, C_l, H_l, W_l)``."""
        levels = [conv(x) for conv, x in
                  zip(self.input_convs, reversed(feats[1:]))]
        pos = self.positional_encodings(levels)
        shapes = [tuple(x.shape[-2:]) for x in levels]
        num = levels[0].shape[0]
        src = torch.cat([x.flatten(2).transpose(1, 2) for x in levels], 1)
        src_pos = torch.cat([p.flatten(2).transpose(1, 2) for p in pos], 1)
        spatial_shapes = torch.as_tensor(shapes, dtype=torch.long,
                                         device=src.device)
        memory = self.encoder(src, src_pos, spatial_shapes,
                              src.new_ones(num, self.num_levels, 2))
        outs = [
            m.transpose(1, 2).reshape(num, -1, h, w) for m, (h, w) in zip(
                memory.split([h * w for h, w in shapes], 1), shapes)
        ]
        lateral = self.lateral_conv(feats[0])
        top = F.interpolate(outs[-1], size=lateral.shape[-2:],
                            mode='bilinear', align_corners=False)
        mask_feature = self.mask_feature(self.output_conv(lateral + top))
        return PixelDecoderOutput(mask_feature, outs, pos)
