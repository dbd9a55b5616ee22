"""Multi-scale deformable attention (Deformable DETR) in pure PyTorch.

Sampling uses :func:`torch.nn.functional.grid_sample`, so it runs wherever
PyTorch runs (CPU, CUDA, autocast) with no compiled extension.
"""
import math
from typing import Optional

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def multi_scale_deformable_attention(value: Tensor, spatial_shapes: Tensor,
                                     sampling_locations: Tensor,
                                     attention_weights: Tensor) -> Tensor:
    """Weighted sum of bilinear samples of several feature levels.

    Locations are normalised to ``[0, 1]`` per level with pixel centres at
    ``(i + 0.5) / size`` (``align_corners=False``); samples outside a level
    read zeros.

    Args:
        value: ``(B, S, M, D)``, the levels flattened row-major and
            concatenated, ``S = Σ_l H_l * W_l``; M heads of D channels.
        spatial_shapes: ``(L, 2)`` integer ``(H_l, W_l)``.
        sampling_locations: ``(B, Q, M, L, P, 2)`` normalised ``(x, y)``.
        attention_weights: ``(B, Q, M, L, P)``.

    Returns:
        ``(B, Q, M * D)``.
    """
    batch, _, heads, dims = value.shape
    _, queries, _, levels, points, _ = sampling_locations.shape
    sizes = [(int(h), int(w)) for h, w in spatial_shapes.tolist()]
    per_level = value.split([h * w for h, w in sizes], dim=1)
    grids = 2 * sampling_locations - 1
    samples = []
    for level, (height, width) in enumerate(sizes):
        # (B, HW, M, D) -> (B*M, D, H, W)
        level_value = per_level[level].permute(0, 2, 3, 1).reshape(
            batch * heads, dims, height, width)
        # (B, Q, M, P, 2) -> (B*M, Q, P, 2)
        grid = grids[:, :, :, level].transpose(1, 2).flatten(0, 1)
        samples.append(F.grid_sample(level_value, grid, mode='bilinear',
                                     padding_mode='zeros',
                                     align_corners=False))
    # (B*M, D, Q, L*P) weighted by (B*M, 1, Q, L*P)
    stacked = torch.stack(samples, dim=-2).flatten(-2)
    weights = attention_weights.transpose(1, 2).reshape(
        batch * heads, 1, queries, levels * points)
    out = (stacked * weights).sum(-1)
    return out.view(batch, heads * dims, queries).transpose(1, 2).contiguous()


class MultiScaleDeformableAttention(nn.Module):
    """Each query attends to P learned points around its reference point in
    each of L levels, per head.

    Parameter names and initialisation follow Deformable DETR's
    ``MSDeformAttn``, so its checkpoints load unchanged.

    Args:
        embed_dims: Channels C of queries and values.
        num_levels: L.
        num_heads: M; ``embed_dims`` must be divisible by it.
        num_points: P, sampling points per head and level.
    """

    def __init__(self, embed_dims: int = 256, num_levels: int = 3,
                 num_heads: int = 8, num_points: int = 4) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims={embed_dims} is not divisible by '
                             f'num_heads={num_heads}')
        self.embed_dims = embed_dims
        self.num_levels = num_levels
        self.num_heads = num_heads
        self.num_points = num_points
        samples = num_heads * num_levels * num_points
        self.sampling_offsets = nn.Linear(embed_dims, samples * 2)
        self.attention_weights = nn.Linear(embed_dims, samples)
        self.value_proj = nn.Linear(embed_dims, embed_dims)
        self.output_proj = nn.Linear(embed_dims, embed_dims)
        self.init_weights()

    def init_weights(self) -> None:
        """Offsets start on rings of radius 1..P in M directions."""
        nn.init.zeros_(self.sampling_offsets.weight)
        angles = torch.arange(self.num_heads) * (2 * math.pi / self.num_heads)
        rays = torch.stack([angles.cos(), angles.sin()], -1)
        rays = rays / rays.abs().max(-1, keepdim=True)[0]
        radii = torch.arange(1, self.num_points + 1, dtype=torch.float32)
        bias = rays[:, None, None, :] * radii[None, None, :, None]
        bias = bias.expand(-1, self.num_levels, -1, -1)
        with torch.no_grad():
            self.sampling_offsets.bias.copy_(bias.reshape(-1))
        nn.init.zeros_(self.attention_weights.weight)
        nn.init.zeros_(self.attention_weights.bias)
        for proj in (self.value_proj, self.output_proj):
            nn.init.xavier_uniform_(proj.weight)
            nn.init.zeros_(proj.bias)

    def forward(self, query: Tensor, reference_points: Tensor, value: Tensor,
                spatial_shapes: Tensor,
                padding_mask: Optional[Tensor] = None) -> Tensor:
        """Attend from queries to the flattened levels.

        Args:
            query: ``(B, Q, C)``, positional embedding already added.
            reference_points: ``(B, Q, L, 2)`` normalised ``(x, y)`` per level.
            value: ``(B, S, C)`` flattened levels.
            spatial_shapes: ``(L, 2)`` ``(H_l, W_l)``.
            padding_mask: ``(B, S)``, True at padding (read as zeros).

        Returns:
            ``(B, Q, C)``.
        """
        batch, queries, _ = query.shape
        heads, levels, points = self.num_heads, self.num_levels, self.num_points
        if spatial_shapes.shape[0] != levels:
            raise ValueError(f'got {spatial_shapes.shape[0]} levels, the '
                             f'module was built for {levels}')
        value = self.value_proj(value)
        if padding_mask is not None:
            value = value.masked_fill(padding_mask[..., None], 0.0)
        value = value.view(batch, value.shape[1], heads, -1)
        offsets = self.sampling_offsets(query).view(
            batch, queries, heads, levels, points, 2)
        weights = self.attention_weights(query).view(
            batch, queries, heads, levels * points).softmax(-1)
        weights = weights.view(batch, queries, heads, levels, points)
        # Offsets are in pixels of each level: normalise by (W_l, H_l).
        normaliser = spatial_shapes.flip(-1).to(offsets.dtype)
        locations = (reference_points[:, :, None, :, None, :] +
                     offsets / normaliser[None, None, None, :, None, :])
        out = multi_scale_deformable_attention(value, spatial_shapes,
                                               locations, weights)
        return self.output_proj(out)
