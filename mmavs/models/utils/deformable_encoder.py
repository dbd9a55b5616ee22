"""The multi-scale deformable transformer encoder (Deformable DETR)."""
from typing import List, Optional

import torch
from torch import Tensor, nn

from .ms_deform_attn import MultiScaleDeformableAttention


class DeformableEncoderLayer(nn.Module):
    """Post-norm layer: deformable self-attention, then an FFN.

    Args:
        embed_dims: Channels C.
        num_levels, num_heads, num_points: See
            :class:`MultiScaleDeformableAttention`.
        ffn_dims: Hidden width of the FFN.
        dropout: Dropout after attention and in the FFN.
        activation: ``'gelu'`` (AVSegFormer) or ``'relu'`` (Mask2Former's
            pixel decoder).
    """

    def __init__(self, embed_dims: int = 256, num_levels: int = 3,
                 num_heads: int = 8, num_points: int = 4,
                 ffn_dims: int = 2048, dropout: float = 0.1,
                 activation: str = 'gelu') -> None:
        if activation not in ('gelu', 'relu'):
            raise ValueError(f'activation must be gelu or relu, got '
                             f'{activation!r}')
        super().__init__()
        self.self_attn = MultiScaleDeformableAttention(
            embed_dims, num_levels, num_heads, num_points)
        self.dropout1 = nn.Dropout(dropout)
        self.norm1 = nn.LayerNorm(embed_dims)
        self.linear1 = nn.Linear(embed_dims, ffn_dims)
        self.activation = nn.GELU() if activation == 'gelu' else nn.ReLU()
        self.dropout2 = nn.Dropout(dropout)
        self.linear2 = nn.Linear(ffn_dims, embed_dims)
        self.dropout3 = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(embed_dims)

    def forward(self, src: Tensor, pos: Tensor, reference_points: Tensor,
                spatial_shapes: Tensor,
                padding_mask: Optional[Tensor] = None) -> Tensor:
        """``src``, ``pos``: ``(B, S, C)``; returns ``(B, S, C)``."""
        attended = self.self_attn(src + pos, reference_points, src,
                                  spatial_shapes, padding_mask)
        src = self.norm1(src + self.dropout1(attended))
        hidden = self.dropout2(self.activation(self.linear1(src)))
        return self.norm2(src + self.dropout3(self.linear2(hidden)))


class DeformableEncoder(nn.Module):
    """A stack of :class:`DeformableEncoderLayer` over flattened levels.

    Args:
        num_layers: Number of layers.
        **layer_kwargs: Passed to each :class:`DeformableEncoderLayer`.
    """

    def __init__(self, num_layers: int = 6, **layer_kwargs) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            [DeformableEncoderLayer(**layer_kwargs) for _ in range(num_layers)])

    @staticmethod
    def reference_points(spatial_shapes: List[tuple], valid_ratios: Tensor,
                         ) -> Tensor:
        """Pixel centres of every level, as seen from every level.

        Args:
            spatial_shapes: L pairs ``(H_l, W_l)``.
            valid_ratios: ``(B, L, 2)`` valid fraction ``(w, h)`` per level.

        Returns:
            ``(B, S, L, 2)`` normalised ``(x, y)``: a query's centre, scaled
            so that it names the same image point in each level's valid part.
        """
        points = []
        for level, (height, width) in enumerate(spatial_shapes):
            ys, xs = torch.meshgrid(
                torch.arange(height, dtype=torch.float32,
                             device=valid_ratios.device) + 0.5,
                torch.arange(width, dtype=torch.float32,
                             device=valid_ratios.device) + 0.5,
                indexing='ij')
            ys = ys.reshape(1, -1) / (valid_ratios[:, None, level, 1] * height)
            xs = xs.reshape(1, -1) / (valid_ratios[:, None, level, 0] * width)
            points.append(torch.stack((xs, ys), -1))
        points = torch.cat(points, 1)
        return points[:, :, None] * valid_ratios[:, None]

    def forward(self, src: Tensor, pos: Tensor, spatial_shapes: Tensor,
                valid_ratios: Tensor,
                padding_mask: Optional[Tensor] = None) -> Tensor:
        """Encode.

        Args:
            src, pos: ``(B, S, C)`` flattened features and their positional
                (plus level) embeddings.
            spatial_shapes: ``(L, 2)`` ``(H_l, W_l)``.
            valid_ratios: ``(B, L, 2)``.
            padding_mask: ``(B, S)``, True at padding.

        Returns:
            ``(B, S, C)``.
        """
        reference = self.reference_points(
            [tuple(s) for s in spatial_shapes.tolist()], valid_ratios)
        for layer in self.layers:
            src = layer(src, pos, reference, spatial_shapes, padding_mask)
        return src
