"""TPAVI: temporal pixel-wise audio-visual interaction, the AVSBench neck.

Each visual level is first projected to ``channels`` by a sum of four dilated
3x3 convolutions, then fused with the clip's audio by a non-local block in
"dot" mode whose attention is factorised so that the ``N x N`` affinity
matrix (``N = T*H*W``) is never built.
"""
from typing import List, Optional, Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule, ModuleDict, ModuleList
from mmseg.registry import MODELS
from torch import Tensor

from mmavs.structures import ClipLayout

from .neck_output import NeckOutput

__all__ = ['DilatedConvModule', 'TPAVIBlock', 'TPAVINeck']


class DilatedConvModule(nn.Module):
    """Sum of parallel 3x3 convolutions with growing dilation.

    Call graph::

        forward(x) = sum(conv(x) for conv in convs)

    Args:
        in_channels: Input channels ``C_in``.
        channels: Output channels ``C``.
        dilations: One 3x3 convolution per dilation; padding equals the
            dilation so the spatial size is kept.
        std: Standard deviation of the normal weight initialisation.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 dilations: Sequence[int] = (3, 6, 12, 18),
                 std: float = 0.01) -> None:
        super().__init__()
        self.std = std
        self.convs = nn.ModuleList(
            nn.Conv2d(
                in_channels, channels, 3, padding=d, dilation=d, bias=True)
            for d in dilations)
        self.init_weights()

    def init_weights(self) -> None:
        """Weights ``N(0, std)``, biases 0, as in the reference neck."""
        for conv in self.convs:
            nn.init.normal_(conv.weight, mean=0.0, std=self.std)
            nn.init.zeros_(conv.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Project one feature level.

        Args:
            x: Features ``(N, C_in, H, W)``.

        Returns:
            Tensor: ``(N, C, H, W)``.
        """
        out = self.convs[0](x)
        for conv in self.convs[1:]:
            out = out + conv(x)
        return out


class TPAVIBlock(nn.Module):
    """Audio-visual non-local block ("dot" mode) over a clip of T frames.

    Call graph::

        forward(x, audio)
          |- align_channel(audio) ...... aligned audio (B, T, C), returned
          |- _embed(x, aligned) ........ theta (B, N, C/2), phi (B, C/2, N),
          |                              g (B, N, C/2), N = T*H*W
          |- _aggregate(theta, phi, g) . y = theta (phi g) / N
          |- W_z(y) + x ................ residual; W_z's BN starts at 0
          '- _channel_norm(z) .......... LayerNorm over C

    Args:
        channels: Visual channels ``C`` (even).
        audio_channels: Audio embedding size (128 for VGGish).
        align_bias: Whether ``align_channel`` has a bias. The AVSS reference
            drops it (``nn.Linear(128, C, bias=False)``), so that the zero
            audio of padding frames stays zero after alignment; its AVSS
            checkpoints have no ``align_channel.bias``.
    """

    def __init__(self, channels: int = 256, audio_channels: int = 128,
                 align_bias: bool = True) -> None:
        super().__init__()
        if channels % 2:
            raise ValueError(f'channels must be even, got {channels}')
        inter = channels // 2
        self.channels = channels
        self.align_channel = nn.Linear(audio_channels, channels,
                                       bias=align_bias)
        self.theta = nn.Conv3d(channels, inter, kernel_size=1)
        self.phi = nn.Conv3d(channels, inter, kernel_size=1)
        self.g = nn.Conv3d(channels, inter, kernel_size=1)
        self.W_z = nn.Sequential(nn.Conv3d(inter, channels, kernel_size=1),
                                 nn.BatchNorm3d(channels))
        self.norm_layer = nn.LayerNorm(channels)
        self.init_weights()

    def init_weights(self) -> None:
        """Zero W_z's BN affine parameters so a fresh block is LayerNorm(x)."""
        bn = self.W_z[1]
        nn.init.zeros_(bn.weight)
        nn.init.zeros_(bn.bias)

    def forward(self, x: Tensor, audio: Tensor) -> Tuple[Tensor, Tensor]:
        """Fuse a clip's visual features with its audio.

        Args:
            x: Visual features ``(B, C, T, H, W)``.
            audio: Audio embeddings ``(B, T, C_a)``.

        Returns:
            tuple: ``z`` ``(B, C, T, H, W)`` and the channel-aligned audio
            ``(B, T, C)``.
        """
        aligned = self.align_channel(audio)
        theta, phi, g = self._embed(x, aligned)
        y = self._aggregate(theta, phi, g)
        b, _, t, h, w = x.shape
        y = y.transpose(1, 2).reshape(b, -1, t, h, w)
        z = self.W_z(y) + x
        return self._channel_norm(z), aligned

    def _embed(self, x: Tensor,
               aligned: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Project to the C/2-dimensional query, key and value spaces.

        Args:
            x: Visual features ``(B, C, T, H, W)``.
            aligned: Aligned audio ``(B, T, C)``.

        Returns:
            tuple: ``theta`` ``(B, N, C/2)``, ``phi`` ``(B, C/2, N)`` and
            ``g`` ``(B, N, C/2)`` with ``N = T*H*W``.
        """
        b, _, t, h, w = x.shape
        # phi is pointwise, so projecting the audio once per frame and then
        # repeating it over H x W equals projecting the repeated audio.
        audio = aligned.transpose(1, 2)[..., None, None]  # (B, C, T, 1, 1)
        phi = self.phi(audio).expand(-1, -1, -1, h, w)
        theta = self.theta(x).flatten(2).transpose(1, 2)
        g = self.g(x).flatten(2).transpose(1, 2)
        return theta, phi.reshape(b, phi.shape[1], -1), g

    @staticmethod
    def _aggregate(theta: Tensor, phi: Tensor, g: Tensor) -> Tensor:
        """``y = (theta phi / N) g``, evaluated as ``theta (phi g) / N``.

        Associativity makes both orders equal; this one needs a
        ``(C/2, C/2)`` intermediate instead of an ``(N, N)`` one.

        Args:
            theta: ``(B, N, C/2)``.
            phi: ``(B, C/2, N)``.
            g: ``(B, N, C/2)``.

        Returns:
            Tensor: ``y`` ``(B, N, C/2)``.
        """
        num_positions = theta.shape[1]
        return theta @ (phi @ g / num_positions)

    def _channel_norm(self, z: Tensor) -> Tensor:
        """LayerNorm over channels of ``(B, C, T, H, W)``."""
        return self.norm_layer(z.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)


@MODELS.register_module()
class TPAVINeck(BaseModule):
    """AVSBench neck: per-level dilated projection, then TPAVI fusion.

    Call graph (N frames of B clips, ``docs/en/architecture.md``)::

        forward(feats, audio_feat, layout, frames, data_samples)
          |- _check_inputs(...)
          |- prepare: convs[l](feats[l]) ........ (N, C, H_l, W_l), audio-free
          '- fuse: for each level l in tpavi_levels:
                 layout.apply_per_clip(tpavi[str(l)])  (B_T, C, T, H, W)
                   per group of clips of equal T
          → NeckOutput(fused, extras={level_audio, num_samples: 1,
                                      visual_prepared: the projections}, {})

    ``convs`` and ``tpavi`` are mmengine containers, so
    :meth:`BaseModule.init_weights` reaches every level's own
    ``init_weights`` after any generic ``init_cfg`` initialiser.

    Args:
        in_channels: Channels of the four backbone levels, e.g.
            ``[64, 128, 320, 512]`` (PVTv2-b5).
        channels: Common neck width ``C`` (256 AVSBench, 128 DiffusionAVS).
        audio_channels: Audio embedding size.
        tpavi_levels: Levels that are fused with audio; the others only get
            the dilated projection.
        dilations: Dilations of the projection's 3x3 convolutions, the
            reference's ``(3, 6, 12, 18)`` by default (sized for 56x56 and
            smaller maps of a 224 input).
        align_bias: Bias in each block's audio alignment (True for S4 /
            MS3; False for the AVSS reference and its checkpoints).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: int = 256,
                 audio_channels: int = 128,
                 tpavi_levels: Sequence[int] = (0, 1, 2, 3),
                 dilations: Sequence[int] = (3, 6, 12, 18),
                 align_bias: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = list(in_channels)
        bad = [
            lvl for lvl in tpavi_levels if not 0 <= lvl < len(self.in_channels)
        ]
        if bad:
            raise ValueError(f'tpavi_levels {bad} out of range for '
                             f'{len(self.in_channels)} levels')
        self.channels = channels
        self.tpavi_levels = tuple(sorted(set(tpavi_levels)))
        self.convs = ModuleList(
            DilatedConvModule(c, channels, tuple(dilations))
            for c in self.in_channels)
        self.tpavi = ModuleDict({
            str(lvl): TPAVIBlock(channels, audio_channels, align_bias)
            for lvl in self.tpavi_levels
        })

    def init_weights(self) -> None:
        """Initialise, keeping the reference init of the fusion layers.

        mmengine applies generic ``init_cfg`` initialisers first, then the
        children's ``init_weights`` (N(0, 0.01) dilated convs, zero W_z BN),
        then a ``Pretrained`` checkpoint, so only a checkpoint can replace
        the reference init.
        """
        super().init_weights()

    def forward(self, feats: Sequence[Tensor], audio_feat: Tensor,
                layout: ClipLayout, frames: Optional[Tensor] = None,
                data_samples: Optional[list] = None) -> NeckOutput:
        """Project and fuse every level.

        Args:
            feats: Per-level features ``(N, C_l, H_l, W_l)``, clip by clip
                (``docs/en/architecture.md``).
            audio_feat: Audio embeddings ``(N, C_a)`` in the same order.
            layout: The clip layout; the non-local attention runs within
                each clip, padding frames included (as the AVSS reference).
            frames, data_samples: Unused (the common neck interface).

        Returns:
            NeckOutput: ``fused``, per level ``(N, C, H_l, W_l)``;
            ``extras['level_audio']``, per level the aligned audio ``(N, C)``
            or ``None`` where the level is not fused;
            ``extras['visual_prepared']``, the projections; no losses.
        """
        self._check_inputs(feats, audio_feat, layout)
        return self.fuse(self.prepare(feats), audio_feat, layout)

    def prepare(self, feats: Sequence[Tensor]) -> List[Tensor]:
        """The audio-free part: each level's dilated projection
        ``(N, C, H_l, W_l)``."""
        return [conv(feat) for conv, feat in zip(self.convs, feats)]

    def fuse(self, prepared: List[Tensor], audio_feat: Tensor,
             layout: ClipLayout) -> NeckOutput:
        """Fuse the audio into :meth:`prepare`'s maps (the segmentor's
        shuffled-audio pass calls it with other audio, reusing the
        projections it finds in ``extras['visual_prepared']``)."""
        fused: List[Tensor] = []
        level_audio: List[Optional[Tensor]] = []
        for level, out in enumerate(prepared):
            audio = None
            if str(level) in self.tpavi:
                out, audio = self._fuse(level, out, audio_feat, layout)
            fused.append(out)
            level_audio.append(audio)
        return NeckOutput(
            fused,
            dict(level_audio=level_audio, num_samples=1,
                 visual_prepared=prepared), {})

    def _fuse(self, level: int, feat: Tensor, audio_feat: Tensor,
              layout: ClipLayout) -> Tuple[Tensor, Tensor]:
        """Run one level's TPAVI block clip by clip.

        Args:
            level: Level index.
            feat: ``(N, C, H, W)``.
            audio_feat: ``(N, C_a)``.
            layout: Which frames form a clip (clips of equal T run as one
                batch).

        Returns:
            tuple: ``(N, C, H, W)`` and aligned audio ``(N, C)``.
        """
        block = self.tpavi[str(level)]

        def per_clip(num_frames, clip_feat, clip_audio):
            # (B, T, C, H, W) -> (B, C, T, H, W) and back.
            z, aligned = block(clip_feat.transpose(1, 2), clip_audio)
            return z.transpose(1, 2), aligned

        return layout.apply_per_clip(per_clip, feat, audio_feat)

    def _check_inputs(self, feats: Sequence[Tensor], audio_feat: Tensor,
                      layout: ClipLayout) -> None:
        """Raise ValueError on inputs that do not fit the layout."""
        if len(feats) != len(self.in_channels):
            raise ValueError(f'expected {len(self.in_channels)} feature '
                             f'levels (in_channels={self.in_channels}), '
                             f'got {len(feats)}')
        for level, feat in enumerate(feats):
            if feat.shape[0] != len(layout):
                raise ValueError(
                    f'level {level} has {feat.shape[0]} frames but the clip '
                    f'layout {list(layout.lengths)} has {len(layout)}')
            if feat.shape[0] != audio_feat.shape[0]:
                raise ValueError(
                    f'level {level} has {feat.shape[0]} frames but audio_feat '
                    f'has {audio_feat.shape[0]}')
