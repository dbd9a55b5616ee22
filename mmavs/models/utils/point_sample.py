"""Point sampling of mask maps (Mask2Former's training on points).

Mask costs and mask losses of the Mask2Former-style heads (CPM, ``cpm.md``
§4) are computed on a few thousand points instead of every pixel. Points are
normalised ``(x, y)`` in ``[0, 1]`` over the whole map, so a prediction at
stride 4 and a ground-truth mask at full resolution are read at the same
places.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def point_sample(input: Tensor, points: Tensor) -> Tensor:
    """Bilinear values of ``input`` at ``points``.

    ``F.grid_sample`` with ``align_corners=False``: ``(0, 0)`` is the top-left
    corner of the top-left pixel, ``(1, 1)`` the bottom-right corner of the
    bottom-right pixel; outside the pixel centres the border is zero-padded
    (as ``mmcv.ops.point_sample`` / detectron2 do).

    Args:
        input: ``(B, C, H, W)`` maps (logits or float masks).
        points: ``(B, P, 2)`` normalised ``(x, y)`` in ``[0, 1]``.

    Returns:
        ``(B, C, P)``.
    """
    if input.dim() != 4 or points.dim() != 3 or points.shape[-1] != 2:
        raise ValueError(f'point_sample expects (B, C, H, W) and (B, P, 2), '
                         f'got {tuple(input.shape)} and {tuple(points.shape)}')
    grid = (2.0 * points - 1.0).unsqueeze(2).to(input.dtype)
    return F.grid_sample(input, grid, align_corners=False).squeeze(3)


def uncertain_points(mask_logits: Tensor,
                     num_points: int,
                     oversample_ratio: float = 3.0,
                     importance_ratio: float = 0.75,
                     generator: Optional[torch.Generator] = None) -> Tensor:
    """Mask2Former's importance sampling of training points.

    Draw ``int(num_points * oversample_ratio)`` uniform points, keep the
    ``int(importance_ratio * num_points)`` most uncertain ones (uncertainty
    ``-|logit|``: the logit closest to 0), and fill up to ``num_points`` with
    fresh uniform points. No gradient flows through the choice.

    Args:
        mask_logits: ``(M, 1, h, w)`` mask logits (one map per mask).
        num_points: ``P``, points per mask.
        oversample_ratio: ``>= 1``.
        importance_ratio: In ``[0, 1]``, share of uncertainty-chosen points.
        generator: Optional torch generator on ``mask_logits``' device, for
            reproducible draws.

    Returns:
        ``(M, P, 2)`` normalised ``(x, y)`` in ``[0, 1]``.
    """
    if oversample_ratio < 1 or not 0 <= importance_ratio <= 1:
        raise ValueError('need oversample_ratio >= 1 and 0 <= '
                         'importance_ratio <= 1')
    num_masks = mask_logits.shape[0]
    device = mask_logits.device
    num_sampled = int(num_points * oversample_ratio)
    num_uncertain = int(importance_ratio * num_points)
    num_random = num_points - num_uncertain
    with torch.no_grad():
        coords = torch.rand(num_masks, num_sampled, 2, device=device,
                            generator=generator)
        logits = point_sample(mask_logits.detach().float(), coords)[:, 0]
        uncertainty = -logits.abs()
        idx = uncertainty.topk(num_uncertain, dim=1).indices
        chosen = coords.gather(1, idx[..., None].expand(-1, -1, 2))
        fresh = torch.rand(num_masks, num_random, 2, device=device,
                           generator=generator)
        return torch.cat((chosen, fresh), dim=1)
