"""The small networks of DiffusionAVS's latent path (``diffavs.md`` §2).

Shapes are per frame: N = number of frames, D = latent size, h = hidden width.
"""
import math
from typing import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

ENCODER_CHANNELS = (16, 32, 64, 64, 64)
POOLED_SIZE = 7  # 224 / 2**5; other input sizes are pooled to it


def normalise_latent(z: Tensor) -> Tensor:
    """Scale each latent to unit RMS: ``√D · z / ‖z‖``."""
    return z * (z.shape[1]**0.5) / z.norm(dim=1, keepdim=True).clamp_min(1e-6)


def leaky(x: Tensor) -> Tensor:
    return F.leaky_relu(x, 0.01)


class ConvStack(nn.Module):
    """Five conv(k4, s2, p1) + BN + LeakyReLU layers, pooled to 7×7, flattened.

    ``(N, C_in, H, W)`` → ``(N, 64 * 7 * 7)``. The adaptive pooling (a
    decision) lets 224 and 512 inputs share the weights.
    """

    def __init__(self, in_channels: int,
                 channels: Sequence[int] = ENCODER_CHANNELS) -> None:
        super().__init__()
        layers = []
        for out in channels:
            layers += [nn.Conv2d(in_channels, out, 4, 2, 1),
                       nn.BatchNorm2d(out), nn.LeakyReLU(0.01)]
            in_channels = out
        self.layers = nn.Sequential(*layers)
        self.out_features = in_channels * POOLED_SIZE**2

    def forward(self, x: Tensor) -> Tensor:
        x = F.adaptive_avg_pool2d(self.layers(x), POOLED_SIZE)
        return x.flatten(1)


class TwoLayerMLP(nn.Sequential):
    """FC → LeakyReLU → FC."""

    def __init__(self, in_features: int, hidden: int, out_features: int):
        super().__init__(nn.Linear(in_features, hidden), nn.LeakyReLU(0.01),
                         nn.Linear(hidden, out_features))


class MaskEncoder(nn.Module):
    """E_phi: ground-truth mask ``(N, K, H, W)`` → latent ``(N, D)``.

    K = 1 for a binary mask; K = C for a class map given as C one-hot
    channels (AVSS, ``docs/en/diffavs.md``).
    """

    def __init__(self, latent_dim: int, hidden: int,
                 in_channels: int = 1) -> None:
        super().__init__()
        self.convs = ConvStack(in_channels)
        self.fc = TwoLayerMLP(self.convs.out_features, hidden, latent_dim)

    def forward(self, mask: Tensor) -> Tensor:
        return self.fc(self.convs(mask))


class ConditionEncoder(nn.Module):
    """E_psi: frame and/or audio → condition ``(N, D)``.

    Args:
        latent_dim: D.
        hidden: h.
        condition: ``'audio-visual'`` (the paper), ``'audio'``, ``'visual'``
            or ``'none'`` (Table IV); ``'none'`` gives a learned constant.
        audio_channels: Size of the audio feature (128 for VGGish).
    """

    def __init__(self, latent_dim: int, hidden: int, condition: str,
                 audio_channels: int = 128) -> None:
        super().__init__()
        if condition not in ('audio-visual', 'audio', 'visual', 'none'):
            raise ValueError(f'unknown condition "{condition}"')
        self.condition = condition
        branches = 0
        if condition in ('audio-visual', 'visual'):
            self.visual_convs = ConvStack(3)
            self.visual_fc = TwoLayerMLP(self.visual_convs.out_features,
                                         hidden, hidden)
            branches += 1
        if condition in ('audio-visual', 'audio'):
            self.audio_fc = TwoLayerMLP(audio_channels, hidden, hidden)
            branches += 1
        if branches:
            self.fuse = TwoLayerMLP(branches * hidden, hidden, latent_dim)
        else:
            self.constant = nn.Parameter(torch.zeros(latent_dim))

    def forward(self, frames: Tensor, audio_feat: Tensor) -> Tensor:
        """``frames`` ``(N, 3, H, W)`` normalised; ``audio_feat`` ``(N, 128)``."""
        parts = []
        if hasattr(self, 'visual_convs'):
            parts.append(leaky(self.visual_fc(self.visual_convs(frames))))
        if hasattr(self, 'audio_fc'):
            parts.append(leaky(self.audio_fc(audio_feat)))
        if not parts:
            return self.constant.expand(frames.shape[0], -1)
        return self.fuse(torch.cat(parts, dim=1))


def step_embedding(steps: Tensor, dim: int) -> Tensor:
    """Sinusoidal embedding of integer steps ``(N,)`` → ``(N, dim)``."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(
        half, device=steps.device, dtype=torch.float32) / half)
    angles = steps.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class NoiseEstimator(nn.Module):
    """ε_θ: eight FC layers, four encoding and four decoding with skips.

    ``(z_k (N, D), c (N, D), k (N,))`` → predicted noise ``(N, D)``. The step
    embedding goes through a two-layer MLP and joins the input.
    """

    def __init__(self, latent_dim: int, width: int) -> None:
        super().__init__()
        self.width = width
        self.step_mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(),
                                      nn.Linear(width, width))
        self.encoder = nn.ModuleList(
            [nn.Linear(2 * latent_dim + width, width)] +
            [nn.Linear(width, width) for _ in range(3)])
        self.decoder = nn.ModuleList([nn.Linear(width, width)
                                      for _ in range(3)])
        self.out = nn.Linear(width, latent_dim)

    def forward(self, z_k: Tensor, condition: Tensor, steps: Tensor) -> Tensor:
        step = self.step_mlp(step_embedding(steps, self.width))
        x = torch.cat([z_k, condition, step], dim=1)
        skips = []
        for layer in self.encoder:
            x = leaky(layer(x))
            skips.append(x)
        for layer, skip in zip(self.decoder, reversed(skips[:-1])):
            x = leaky(layer(x)) + skip
        return self.out(x)


class LatentFusion(nn.Module):
    """D_tau and the fusion: tile ẑ0, conv3×3 D→C, concat with G_4, conv 2C→C.

    ``(G_4 (N, C, h, w), z (N, D))`` → ``Ĝ_4 (N, C, h, w)``.
    """

    def __init__(self, latent_dim: int, channels: int) -> None:
        super().__init__()
        self.latent_conv = nn.Conv2d(latent_dim, channels, 3, padding=1)
        self.fuse_conv = nn.Conv2d(2 * channels, channels, 3, padding=1)

    def forward(self, feature: Tensor, latent: Tensor) -> Tensor:
        tiled = latent[:, :, None, None].expand(-1, -1, *feature.shape[-2:])
        fused = self.fuse_conv(
            torch.cat([feature, self.latent_conv(tiled)], dim=1))
        # Keep the layout of G_4 (TPAVI gives channels-last strides): a head
        # fed levels in mixed layouts runs markedly slower on CPU.
        if feature.is_contiguous(memory_format=torch.channels_last):
            return fused.contiguous(memory_format=torch.channels_last)
        return fused
