"""DiffusionAVS's conditional latent diffusion, as a neck around TPAVI."""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmseg.registry import MODELS
from torch import Tensor
from torch.nn import functional as F

from ..utils.diffusion_schedule import (add_noise, cosine_alphas_cumprod,
                                        ddim_step, ddim_timesteps, predict_z0)
from .base_latent_neck import BaseLatentNeck, normalise_latent
from .latent_modules import NoiseEstimator

__all__ = ['LatentDiffusionNeck', 'normalise_latent']


@MODELS.register_module()
class LatentDiffusionNeck(BaseLatentNeck):
    """Contrastive conditional latent diffusion around a fusion neck.

    Wraps a fusion neck (TPAVI by default) and replaces its deepest output
    G_4 by Ĝ_4, which also sees a per-frame latent: in training the latent
    of the ground-truth mask, in testing one sampled from the condition by
    DDIM. Swapping ``neck=dict(type='TPAVINeck', ...)`` for
    ``neck=dict(type='LatentDiffusionNeck', fusion=dict(type='TPAVINeck',
    ...))`` turns the E-D baseline into DiffusionAVS.

    Call graph (N = B·T frames, M annotated ones, D = latent_dim)::

        loss(visual, audio_feat, T, frames, data_samples)
          fusion(visual, audio_feat, T)   → G_1..G_4, level_audio
          c  = cond_encoder(frames, audio_feat)            (N, D)
          z0 = norm(mask_encoder(masks))                   (M, D)
          k ~ U{1..K}, ε ~ N(0, I): z_k = √ᾱ_k z0 + √(1-ᾱ_k) ε
          ε̂ = denoiser(z_k, c, k)           → loss_diff = ‖ε − ε̂‖²
          latent (annotated) = norm(ẑ0 one step) | z0 (train_latent)
          latent (others)    = sample(c)   (no gradient)
          contrastive_loss(c, z0, clip ids) → loss_contrastive
          Ĝ_4 = latent_fusion(G_4, latent)
        predict(visual, audio_feat, T, frames, seeds, sample)
          latent = sample(c): DDIM, num_inference_steps, η = 0, z_K from a
                   generator seeded per frame and sample
          Ĝ_4 = latent_fusion(G_4, latent)

    Decisions (``docs/en/diffavs.md``): E_phi / E_psi pool to 7×7 before the
    FC layers; latents are normalised to unit RMS (``latent_norm``); the
    decoder sees the one-step estimate in training (``train_latent``);
    frames of a clip are not each other's negatives (in the loss config).
    The encoders, the fusion and the loss / predict loops are shared with
    the CVAE baseline (:class:`BaseLatentNeck`).

    Args:
        fusion: Config of the wrapped fusion neck.
        channels: C, the fusion neck's output channels.
        latent_dim: D (24).
        hidden: h, width of the encoders' FC layers (256).
        denoiser_width: Width of ε_θ (384).
        condition: ``'audio-visual'``, ``'audio'``, ``'visual'``, ``'none'``.
        num_train_steps: K (20).
        num_inference_steps: DDIM steps at test time (10).
        num_samples: Latents sampled per frame at test time (their
            predictions are averaged; their spread is the uncertainty).
        latent_norm: Normalise latents to unit RMS.
        train_latent: ``'denoised'`` or ``'z0'``.
        diffusion_loss_weight: lambda_1 (1).
        contrastive_loss: Config of the contrastive loss, or None.
        seed: Base seed of the sampling noise.
        audio_channels: Size of the audio feature (128 for VGGish).
        init_cfg: Initialisation config.
    """

    latent_loss_names = ('loss_diff', )

    def __init__(self,
                 fusion: dict,
                 channels: int = 128,
                 latent_dim: int = 24,
                 hidden: int = 256,
                 denoiser_width: int = 384,
                 condition: str = 'audio-visual',
                 num_train_steps: int = 20,
                 num_inference_steps: int = 10,
                 num_samples: int = 1,
                 latent_norm: bool = True,
                 train_latent: str = 'denoised',
                 diffusion_loss_weight: float = 1.0,
                 contrastive_loss: Optional[dict] = dict(
                     type='ContrastiveLoss', loss_weight=0.1),
                 seed: int = 0,
                 audio_channels: int = 128,
                 init_cfg: Optional[dict] = None) -> None:
        if train_latent not in ('denoised', 'z0'):
            raise ValueError(f'unknown train_latent "{train_latent}"')
        ddim_timesteps(num_train_steps, num_inference_steps)  # validates
        super().__init__(fusion, channels, latent_dim, hidden, condition,
                         num_samples, latent_norm, contrastive_loss, seed,
                         audio_channels, init_cfg,
                         denoiser_width=denoiser_width)
        self.register_buffer('alphas_cumprod',
                             cosine_alphas_cumprod(num_train_steps).float(),
                             persistent=False)
        self.num_train_steps = num_train_steps
        self.num_inference_steps = num_inference_steps
        self.train_latent = train_latent
        self.diffusion_loss_weight = diffusion_loss_weight

    def _build_latent_model(self, denoiser_width: int) -> None:
        self.denoiser = NoiseEstimator(self.latent_dim, denoiser_width)

    def _alpha(self, steps: Tensor) -> Tensor:
        """ᾱ_k for steps 1..K as ``(N, 1)``; step 0 gives 1."""
        padded = F.pad(self.alphas_cumprod, (1, 0), value=1.0)
        return padded[steps][:, None]

    def sample(self, condition: Tensor, seeds: Sequence[int]) -> Tensor:
        """DDIM from z_K ~ N(0, I), one generator per frame: ``(N, D)``."""
        z = self._noise(seeds).to(condition)
        steps = ddim_timesteps(self.num_train_steps, self.num_inference_steps)
        for k, k_prev in zip(steps, steps[1:] + [0]):
            k_t = torch.full((len(z), ), k, device=z.device, dtype=torch.long)
            eps = self.denoiser(z, condition, k_t)
            z = ddim_step(z, eps, self._alpha(k_t),
                          self._alpha(torch.full_like(k_t, k_prev)))
        return self._norm(z)

    def _latent_loss(self, z0: Tensor,
                     condition: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        """One noising step of random k: ``loss_diff`` and the decoder's
        latent (the one-step estimate or z0, ``train_latent``)."""
        steps = torch.randint(1, self.num_train_steps + 1, (len(z0), ),
                              device=z0.device)
        noise = torch.randn_like(z0)
        alpha = self._alpha(steps)
        z_k = add_noise(z0, noise, alpha)
        eps = self.denoiser(z_k, condition, steps)
        loss = self.diffusion_loss_weight * F.mse_loss(eps, noise)
        one_step = self._norm(predict_z0(z_k, eps, alpha))
        latent = one_step if self.train_latent == 'denoised' else z0
        return latent, dict(loss_diff=loss)
