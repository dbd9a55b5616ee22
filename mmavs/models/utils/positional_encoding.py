"""Sine positional encoding of 2-D feature maps (DETR)."""
import math

import torch
from torch import Tensor


def sine_positional_encoding(mask: Tensor, num_feats: int = 128,
                             temperature: float = 10000.0,
                             normalize: bool = False,
                             scale: float = 2 * math.pi,
                             eps: float = 1e-6) -> Tensor:
    """Sine/cosine of the row and column index of each valid pixel.

    Positions count valid pixels from 1 (``cumsum`` of ``~mask``), so a
    padded map encodes its valid part exactly like the unpadded map.

    Args:
        mask: ``(B, H, W)`` bool, True at padding.
        num_feats: Features per axis; the output has ``2 * num_feats``.
        temperature: Base of the frequency progression.
        normalize: Scale positions to ``[0, scale]`` by the valid extent.
        scale: See ``normalize``.
        eps: Guards the normalisation.

    Returns:
        ``(B, 2 * num_feats, H, W)``: the y features, then the x features,
        each interleaving sin (even) and cos (odd).
    """
    valid = (~mask).to(torch.float32)
    y_pos = valid.cumsum(1)
    x_pos = valid.cumsum(2)
    if normalize:
        y_pos = y_pos / (y_pos[:, -1:, :] + eps) * scale
        x_pos = x_pos / (x_pos[:, :, -1:] + eps) * scale
    index = torch.arange(num_feats, dtype=torch.float32, device=mask.device)
    freq = temperature**(2 * torch.div(index, 2, rounding_mode='floor') /
                         num_feats)

    def encode(pos: Tensor) -> Tensor:
        angles = pos[..., None] / freq
        return torch.stack((angles[..., 0::2].sin(), angles[..., 1::2].cos()),
                           dim=4).flatten(3)

    return torch.cat((encode(y_pos), encode(x_pos)), dim=3).permute(0, 3, 1, 2)
