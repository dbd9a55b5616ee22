"""The AVSBench Panoptic-FPN-style decoder."""
from typing import List, Optional

from mmseg.registry import MODELS
from torch import Tensor, nn
from torch.nn import functional as F

from mmavs.structures import ClipLayout

from .avs_decode_head import AVSDecodeHead


class ResidualConvUnit(nn.Module):
    """ReLU → conv3×3 → ReLU → conv3×3, plus the input; no normalisation."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv2(F.relu(self.conv1(F.relu(x)))) + x


class FusionBlock(nn.Module):
    """``out = x (+ RCU(skip))``, then RCU, then bilinear ×2."""

    def __init__(self, channels: int, with_skip: bool = True) -> None:
        super().__init__()
        if with_skip:
            self.resConfUnit1 = ResidualConvUnit(channels)
        self.resConfUnit2 = ResidualConvUnit(channels)

    def forward(self, x: Tensor, skip: Optional[Tensor] = None) -> Tensor:
        if skip is not None:
            x = x + self.resConfUnit1(skip)
        x = self.resConfUnit2(x)
        # align_corners=True as in the AVSBench decoder.
        return F.interpolate(x, scale_factor=2, mode='bilinear',
                             align_corners=True)


@MODELS.register_module()
class AVSFPNHead(AVSDecodeHead):
    """Panoptic-FPN-style decoder of AVSBench (TPAVI) and DiffusionAVS.

    Call graph (sizes for a 224 input)::

        forward([G1 56², G2 28², G3 14², G4 7²])
          path4(G4)                → 14²
          path3(·, skip=G3)        → 28²
          path2(·, skip=G2)        → 56²
          path1(·, skip=G1)        → 112²
          output_conv: conv3×3 C→C/2, bilinear ×2 (align_corners=False),
                       conv3×3 → 32, ReLU           → 224²
          conv_seg: conv1×1 32 → K                  → logits (N, K, 224, 224)

    Args:
        in_channels: Channels of the four neck outputs (all equal to
            ``channels``).
        channels: C, the decoder width (AVSBench 256, DiffusionAVS 128).
        **kwargs: See :class:`AVSDecodeHead`.
    """

    def __init__(self, in_channels: List[int], channels: int, **kwargs):
        super().__init__(in_channels=in_channels, channels=channels,
                         input_transform='multiple_select',
                         in_index=list(range(len(in_channels))), **kwargs)
        if any(c != channels for c in in_channels):
            raise ValueError(f'AVSFPNHead needs in_channels all equal to '
                             f'channels={channels}, got {in_channels}')
        self.path4 = FusionBlock(channels, with_skip=False)
        self.path3 = FusionBlock(channels)
        self.path2 = FusionBlock(channels)
        self.path1 = FusionBlock(channels)
        self.output_conv = nn.Sequential(
            nn.Conv2d(channels, channels // 2, 3, padding=1),
            nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False),
            nn.Conv2d(channels // 2, 32, 3, padding=1),
            nn.ReLU(inplace=True))
        self.conv_seg = nn.Conv2d(32, self.out_channels, 1)

    def forward(self, inputs: List[Tensor],
                audio_feat: Optional[Tensor] = None,
                layout: Optional[ClipLayout] = None) -> Tensor:
        """Logits ``(N, K, H, W)``; per frame, so the audio features and the
        clip layout are not used (``docs/en/architecture.md``)."""
        g1, g2, g3, g4 = self._transform_inputs(inputs)
        x = self.path4(g4)
        x = self.path3(x, g3)
        x = self.path2(x, g2)
        x = self.path1(x, g1)
        return self.conv_seg(self.output_conv(x))
