"""The seed policy of latent noise: the one place that decides it.

- **Test time**: frame ``i`` of a clip, latent sample ``s``, gets its own
  generator, seeded by (the neck's ``seed``, the frame's ``clip_index`` and
  ``frame_index``, ``s``) through :func:`frame_noise_seed`. The noise of a
  frame therefore does not depend on the batch it is in, nor on the device,
  and repeats exactly from run to run.
- **Training** (frames without a mask, whose latent is sampled): fresh noise
  every iteration. One draw from torch's global generator (which mmengine
  seeds from ``randomness.seed``) is mixed with the neck's ``seed`` to seed
  the iteration's generator, so both seeds change the noise.

The noise is drawn on the CPU in float32; callers move it to their device
and dtype.
"""
from typing import Optional

import torch
from torch import Tensor

from mmavs.structures import ClipLayout

_SEED_MOD = 2**64  # torch.Generator.manual_seed reads seeds modulo 2**64


def frame_noise_seed(neck_seed: int, clip_index: int, frame_index: int,
              sample_index: int) -> int:
    """Seed of one frame's test-time noise for latent sample
    ``sample_index`` (the values the segmentor used before the clip layout
    existed)."""
    frame = int(clip_index) * 1000 + int(frame_index)
    return ((int(neck_seed) * 1_000_003 + frame) * 97 +
            int(sample_index)) % _SEED_MOD


def latent_noise(layout: ClipLayout, dim: int, neck_seed: int,
                 num_samples: int = 1, training: bool = False,
                 frames: Optional[Tensor] = None) -> Tensor:
    """Standard normal noise for latents, ``(S·M, dim)`` float32 on the CPU.

    Args:
        layout: The batch's clip layout.
        dim: The latent size D.
        neck_seed: The latent neck's ``seed``.
        num_samples: S latent samples per frame (copy-major: sample ``s`` of
            frame ``m`` at ``s·M + m``).
        training: Fresh noise (see the module docstring) instead of the
            per-frame test-time generators.
        frames: ``(M,)`` indices of the frames that need noise; default all.
    """
    if frames is None:
        frames = torch.arange(len(layout))
    frames = frames.cpu()
    count = len(frames) * num_samples
    if training:
        fresh = int(torch.randint(0, 2**62, (1, )))
        generator = torch.Generator().manual_seed(
            (int(neck_seed) * 1_000_003 + fresh) % _SEED_MOD)
        return torch.randn(count, dim, generator=generator)
    clips = layout.clip_index.cpu()[frames].tolist()
    indices = layout.frame_index.cpu()[frames].tolist()
    if count == 0:
        return torch.zeros(0, dim)
    return torch.stack([
        torch.randn(dim, generator=torch.Generator().manual_seed(
            frame_noise_seed(neck_seed, clip, frame, s)))
        for s in range(num_samples) for clip, frame in zip(clips, indices)
    ])
