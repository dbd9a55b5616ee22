"""CAVP's DeepLabV3+ feature: ASPP on the last level plus a low-level skip."""
from typing import List, Sequence

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn
from torch.nn import functional as F


class CAVPASPP(nn.Module):
    """ASPP with LeakyReLU and an image-pooling branch added after the
    reduction (``cavp.md`` §4).

    Call graph::

        forward(x (N, C_in, h, w))
          cat(1x1, 3x3 d=r1, 3x3 d=r2, 3x3 d=r3)   (N, 4·C_h, h, w)
          → BN → LeakyReLU(0.01) → 1x1 → C_out
          + pool: mean over h, w → 1x1 → BN → LeakyReLU → 1x1 → C_out,
                  broadcast over h, w
          → BN → LeakyReLU                          (N, C_out, h, w)

    One BN over the four concatenated branches equals one BN per branch
    (batch norm is per channel). At batch size 1 in training the pooling
    branch's BN uses its running statistics (one value per channel).
    Convolutions have no bias (each is followed by a BN, or by the sum that
    is).

    Args:
        in_channels: ``C_in`` (2048 for ResNet-50 layer 4).
        channels: ``C_h`` of each branch (256).
        out_channels: ``C_out`` (256).
        dilations: Rates of the three 3x3 branches (6, 12, 18).
        negative_slope: Of the LeakyReLUs (0.01, torch's default).
    """

    def __init__(self,
                 in_channels: int,
                 channels: int = 256,
                 out_channels: int = 256,
                 dilations: Sequence[int] = (6, 12, 18),
                 negative_slope: float = 0.01) -> None:
        super().__init__()
        self.map_convs = nn.ModuleList(
            [nn.Conv2d(in_channels, channels, 1, bias=False)] + [
                nn.Conv2d(in_channels, channels, 3, padding=d, dilation=d,
                          bias=False) for d in dilations
            ])
        self.map_bn = nn.BatchNorm2d(channels * len(self.map_convs))
        self.red_conv = nn.Conv2d(channels * len(self.map_convs),
                                  out_channels, 1, bias=False)
        self.pool_conv = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.pool_bn = nn.BatchNorm2d(channels)
        self.pool_red_conv = nn.Conv2d(channels, out_channels, 1, bias=False)
        self.red_bn = nn.BatchNorm2d(out_channels)
        self.act = nn.LeakyReLU(negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, C_in, h, w)`` → ``(N, C_out, h, w)``."""
        out = torch.cat([conv(x) for conv in self.map_convs], dim=1)
        out = self.red_conv(self.act(self.map_bn(out)))
        pool = self.pool_conv(x.mean(dim=(2, 3), keepdim=True))
        pool = self.pool_red_conv(self.act(self._pool_norm(pool)))
        return self.act(self.red_bn(out + pool))

    def _pool_norm(self, pool: Tensor) -> Tensor:
        """``pool_bn``; a training batch of one image has one value per
        channel there, which batch statistics cannot normalise (the
        reference fails on it): that batch uses the running statistics,
        without updating them."""
        bn = self.pool_bn
        if not (self.training and pool.shape[0] == 1):
            return bn(pool)
        return F.batch_norm(pool, bn.running_mean, bn.running_var,
                            bn.weight, bn.bias, False, 0.0, bn.eps)


@MODELS.register_module()
class CAVPDecoder(BaseModule):
    """DeepLabV3+ feature ``u_v`` of CAVP (``cavp.md`` §4).

    Call graph (ResNet-50, input H x W; N frames,
    ``docs/en/architecture.md``)::

        forward([layer1 (N, 256, H/4, W/4), ..., layer4 (N, 2048, h, w)])
          aspp(layer4)                         (N, 256, h, w)
          → bilinear (align_corners=True) to H/4 x W/4
          cat with reduce(layer1): 1x1 → 48, BN, ReLU
          → u_v (N, 256 + 48 = 304, H/4, W/4)

    Args:
        in_channels: Channels of the low-level and the last level
            (``(256, 2048)`` for ResNet-50).
        in_index: Which backbone levels they are (``(0, 3)``).
        aspp_channels: Width of the ASPP branches and output (256).
        low_level_channels: Width of the reduced low-level map (48).
        dilations: ASPP rates (6, 12, 18).
        negative_slope: Of the ASPP LeakyReLUs (0.01).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (256, 2048),
                 in_index: Sequence[int] = (0, 3),
                 aspp_channels: int = 256,
                 low_level_channels: int = 48,
                 dilations: Sequence[int] = (6, 12, 18),
                 negative_slope: float = 0.01,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        low_in, high_in = in_channels
        self.in_index = tuple(in_index)
        self.aspp = CAVPASPP(high_in, aspp_channels, aspp_channels,
                             dilations, negative_slope)
        self.reduce = nn.Sequential(
            nn.Conv2d(low_in, low_level_channels, 1, bias=False),
            nn.BatchNorm2d(low_level_channels), nn.ReLU())
        self.out_channels = aspp_channels + low_level_channels

    def forward(self, feats: List[Tensor]) -> Tensor:
        """Backbone levels → ``u_v`` ``(N, out_channels, H_low, W_low)``."""
        low, high = (feats[i] for i in self.in_index)
        high = F.interpolate(self.aspp(high), size=low.shape[-2:],
                             mode='bilinear', align_corners=True)
        return torch.cat([high, self.reduce(low)], dim=1)
