"""The AVSBench Panoptic-FPN-style decoder."""
from typing import List, Optional

import torch

from mmseg.registry import MODELS
from torch import Tensor, nn
from torch.nn import functional as F

from mmavs.structures import ClipLayout

from .avs_decode_head import AVSDecodeHead


class ResidualConvUnit(nn.Module):
    """ReLU → conv3×3 → ReLU → conv3×3, plus a residual; no normalisation.

    Args:
        channels: Input and output channels.
        relu_residual: Add ``ReLU(x)`` instead of ``x``. The AVSBench code
            applies its first ReLU in place, which overwrites the input
            before the residual add, so its unit returns
            ``conv2(ReLU(conv1(ReLU(x)))) + ReLU(x)``.
    """

    def __init__(self, channels: int, relu_residual: bool = True) -> None:
        super().__init__()
        self.relu_residual = relu_residual
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        # Out of place: the caller's tensor is left as it was (the head
        # hands the ReLU'd maps to the auxiliary losses explicitly).
        relu_x = F.relu(x)
        out = self.conv2(F.relu(self.conv1(relu_x)))
        return out + (relu_x if self.relu_residual else x)


class FusionBlock(nn.Module):
    """``out = x (+ RCU(skip))``, then RCU, then bilinear ×2."""

    def __init__(self, channels: int, with_skip: bool = True,
                 relu_residual: bool = True) -> None:
        super().__init__()
        if with_skip:
            self.resConfUnit1 = ResidualConvUnit(channels, relu_residual)
        self.resConfUnit2 = ResidualConvUnit(channels, relu_residual)

    def forward(self, x: Tensor, skip: Optional[Tensor] = None) -> Tensor:
        return self.merge(x, None if skip is None else self.skip_unit(skip))

    def skip_unit(self, skip: Tensor) -> Tensor:
        """``RCU(skip)``: depends on the skip map alone, so samples that
        share it can share this."""
        return self.resConfUnit1(skip)

    def merge(self, x: Tensor, skipped: Optional[Tensor] = None) -> Tensor:
        """``x (+ skipped)``, RCU, bilinear ×2."""
        if skipped is not None:
            x = x + skipped
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

    N frames and the clip layout: ``docs/en/architecture.md``.

    The reference decoder (AVSBench, reused by DiffusionAVS) runs every
    residual conv unit with an in-place first ReLU. That has two effects,
    both reproduced with ``reference_inplace_relu=True``:

    - each unit adds ``ReLU(x)``, not ``x``, as its residual;
    - the fused maps G1..G4 it was given are overwritten by ReLU(G_i) (G1-G3
      by the skip unit of paths 1-3, G4 by path4's unit, which runs on G4
      itself), and the reference's MS3 matching loss reads those. Here the
      inputs are left alone and :meth:`aux_maps` returns ReLU(G_i), which
      the segmentor hands to its auxiliary losses.

    Args:
        in_channels: Channels of the four neck outputs (all equal to
            ``channels``).
        channels: C, the decoder width (AVSBench 256, DiffusionAVS 128).
        reference_inplace_relu: Reproduce the reference decoder's in-place
            ReLU (above). ``False`` gives the textbook unit (residual ``x``,
            maps unchanged), which mmavs used before 2026-12; checkpoints
            trained with that version need ``False`` to give their outputs.
        **kwargs: See :class:`AVSDecodeHead`.
    """

    def __init__(self, in_channels: List[int], channels: int,
                 reference_inplace_relu: bool = True, **kwargs):
        super().__init__(in_channels=in_channels, channels=channels,
                         input_transform='multiple_select',
                         in_index=list(range(len(in_channels))), **kwargs)
        if any(c != channels for c in in_channels):
            raise ValueError(f'AVSFPNHead needs in_channels all equal to '
                             f'channels={channels}, got {in_channels}')
        self.reference_inplace_relu = reference_inplace_relu
        relu_residual = reference_inplace_relu
        self.path4 = FusionBlock(channels, with_skip=False,
                                 relu_residual=relu_residual)
        self.path3 = FusionBlock(channels, relu_residual=relu_residual)
        self.path2 = FusionBlock(channels, relu_residual=relu_residual)
        self.path1 = FusionBlock(channels, relu_residual=relu_residual)
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
        return self._top_down(g4, [self.path3.skip_unit(g3),
                                   self.path2.skip_unit(g2),
                                   self.path1.skip_unit(g1)])

    def _top_down(self, g4: Tensor, skipped: List[Tensor]) -> Tensor:
        """Logits from G4 and the skip units' outputs of G3, G2, G1."""
        x = self.path4(g4)
        for block, skip in zip((self.path3, self.path2, self.path1),
                               skipped):
            x = block.merge(x, skip)
        return self.conv_seg(self.output_conv(x))

    def forward_samples(self, inputs: List[Tensor], audio_feat: Tensor,
                        layout: ClipLayout, num_samples: int) -> Tensor:
        """Logits ``(S·N, K, h, w)`` of S latent samples (see
        :meth:`AVSDecodeHead.forward_samples` for the input layout).

        The skip units of the levels the samples share (a latent neck's
        G1..G3) run once; the rest of the decoder, which the latent in G4
        reaches, runs once per sample on that sample's N maps. The logits
        are those of decoding each sample on its own.
        """
        levels = self._transform_inputs(inputs)
        frames = self._check_sample_levels(levels, layout, num_samples)
        blocks = (self.path1, self.path2, self.path3)
        shared = [block.skip_unit(g) if g.shape[0] == frames else None
                  for block, g in zip(blocks, levels[:3])]
        logits = []
        for s in range(num_samples):
            rows = slice(s * frames, (s + 1) * frames)
            skipped = [skip if skip is not None else block.skip_unit(g[rows])
                       for block, g, skip in zip(blocks, levels[:3], shared)]
            g4 = levels[3]
            g4 = g4 if g4.shape[0] == frames else g4[rows]
            logits.append(self._top_down(g4, skipped[::-1]))
        return torch.cat(logits)

    def aux_maps(self, inputs: List[Tensor]) -> List[Tensor]:
        """The fused maps as the reference decoder leaves them: ReLU(G_i)
        with ``reference_inplace_relu``, else the inputs unchanged."""
        if not self.reference_inplace_relu:
            return list(inputs)
        return [F.relu(x) for x in inputs]
