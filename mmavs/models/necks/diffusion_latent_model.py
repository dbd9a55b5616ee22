"""DiffusionAVS's conditional latent diffusion: the latent model of
:class:`LatentNeck` (``diffavs.md`` §2, ``docs/en/diffavs.md``)."""
from typing import Dict, Tuple

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor
from torch.nn import functional as F

from ..utils.diffusion_schedule import (add_noise, cosine_alphas_cumprod,
                                        ddim_step, ddim_timesteps, predict_z0)
from .latent_modules import NoiseEstimator, normalise_latent


@MODELS.register_module()
class DiffusionLatentModel(BaseModule):
    """Latents by DDIM from the condition; trained by noise prediction.

    Shapes per frame: M frames, D = ``latent_dim``::

        sample(c (M, D), z_K (M, D))     DDIM, num_inference_steps, η = 0
          → norm(ẑ0)                                         (M, D)
        loss(z0 (M, D), c (M, D))
          k ~ U{1..K}, ε ~ N(0, I): z_k = √ᾱ_k z0 + √(1-ᾱ_k) ε
          ε̂ = denoiser(z_k, c, k)        → loss_diff = w · ‖ε − ε̂‖²
          → latent: norm(one-step ẑ0) (train_latent='denoised') or z0

    Args:
        latent_dim: D (set by the latent neck).
        denoiser_width: Width of ε_θ (384).
        num_train_steps: K (20).
        num_inference_steps: DDIM steps at test time (10).
        train_latent: ``'denoised'`` or ``'z0'``.
        loss_weight: λ1, the weight of ``loss_diff`` (1).
        latent_norm: Normalise latents to unit RMS (set by the latent neck).
        init_cfg: Initialisation config.
    """

    #: Keys of the losses :meth:`loss` returns.
    loss_names: Tuple[str, ...] = ('loss_diff', )

    def __init__(self,
                 latent_dim: int = 24,
                 denoiser_width: int = 384,
                 num_train_steps: int = 20,
                 num_inference_steps: int = 10,
                 train_latent: str = 'denoised',
                 loss_weight: float = 1.0,
                 latent_norm: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        if train_latent not in ('denoised', 'z0'):
            raise ValueError(f'unknown train_latent "{train_latent}"')
        ddim_timesteps(num_train_steps, num_inference_steps)  # validates
        self.denoiser = NoiseEstimator(latent_dim, denoiser_width)
        self.register_buffer('alphas_cumprod',
                             cosine_alphas_cumprod(num_train_steps).float(),
                             persistent=False)
        self.latent_dim = latent_dim
        self.num_train_steps = num_train_steps
        self.num_inference_steps = num_inference_steps
        self.train_latent = train_latent
        self.loss_weight = loss_weight
        self.latent_norm = latent_norm

    def _norm(self, z: Tensor) -> Tensor:
        return normalise_latent(z) if self.latent_norm else z

    def _alpha(self, steps: Tensor) -> Tensor:
        """ᾱ_k for steps 1..K as ``(M, 1)``; step 0 gives 1."""
        padded = F.pad(self.alphas_cumprod, (1, 0), value=1.0)
        return padded[steps][:, None]

    def sample(self, condition: Tensor, noise: Tensor) -> Tensor:
        """DDIM from ``z_K = noise``: latents ``(M, D)`` for conditions
        ``(M, D)``."""
        z = noise
        steps = ddim_timesteps(self.num_train_steps, self.num_inference_steps)
        for k, k_prev in zip(steps, steps[1:] + [0]):
            k_t = torch.full((len(z), ), k, device=z.device, dtype=torch.long)
            eps = self.denoiser(z, condition, k_t)
            z = ddim_step(z, eps, self._alpha(k_t),
                          self._alpha(torch.full_like(k_t, k_prev)))
        return self._norm(z)

    def loss(self, z0: Tensor,
             condition: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        """One noising step of random k: the decoder's latent ``(M, D)``
        (one-step estimate or z0, ``train_latent``) and ``loss_diff``."""
        steps = torch.randint(1, self.num_train_steps + 1, (len(z0), ),
                              device=z0.device)
        noise = torch.randn_like(z0)
        alpha = self._alpha(steps)
        z_k = add_noise(z0, noise, alpha)
        eps = self.denoiser(z_k, condition, steps)
        loss = self.loss_weight * F.mse_loss(eps.float(), noise.float())
        one_step = self._norm(predict_z0(z_k, eps, alpha))
        latent = one_step if self.train_latent == 'denoised' else z0
        return latent, dict(loss_diff=loss)
