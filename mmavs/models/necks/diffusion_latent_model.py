"""DiffusionAVS's conditional latent diffusion: the latent model of
:class:`LatentNeck` (``diffavs.md`` §2, ``docs/en/diffavs.md``)."""
from typing import Dict, Tuple

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor
from torch.nn import functional as F

from ..utils.ddim_sampler import CUDAGraphSampler, fast_ddim_sample
from ..utils.diffusion_schedule import (add_noise, cosine_alphas_cumprod,
                                        ddim_timesteps, predict_z0)
from .latent_modules import NoiseEstimator, normalise_latent


TRAIN_LATENTS = ('denoised', 'z0', 'sampled')


@MODELS.register_module()
class DiffusionLatentModel(BaseModule):
    """Latents by DDIM from the condition; trained by noise prediction.

    Shapes per frame: M frames, D = ``latent_dim``::

        sample(c (M, D), z_K (M, D))     DDIM, num_inference_steps, η = 0
          → norm(ẑ0)                                         (M, D)
        loss(z0 (M, D), c (M, D))
          k ~ U{1..K}, ε ~ N(0, I): z_k = √ᾱ_k z0 + √(1-ᾱ_k) ε
          ε̂ = denoiser(z_k, c, k)        → loss_diff = w · ‖ε − ε̂‖²
          → latent: norm(one-step ẑ0) (train_latent='denoised'), z0
            ('z0'), or sample(c, fresh z_K) with gradients ('sampled')

    Args:
        latent_dim: D (set by the latent neck).
        denoiser_width: Width of ε_θ (384).
        num_train_steps: K (20).
        num_inference_steps: DDIM steps at test time (10).
        train_latent: What the decoder sees in training: ``'denoised'``
            (the paper's one-step estimate from the true mask's latent),
            ``'z0'`` (that latent itself), or ``'sampled'`` (the DDIM sample
            from the condition, as at test time, with gradients through
            the sampler into ε_θ and E_psi: the decoder trains on what it is
            tested on; ``docs/en/diffavs.md``).
        loss_weight: λ1, the weight of ``loss_diff`` (1).
        latent_norm: Normalise latents to unit RMS (set by the latent neck).
        cuda_graph: At test time on a GPU, replay the DDIM loop from a
            CUDA graph (:class:`CUDAGraphSampler`; checked against the eager
            loop once, eager if capture fails). Off by default.
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
                 cuda_graph: bool = False,
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        if train_latent not in TRAIN_LATENTS:
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
        # ᾱ_1..ᾱ_K as Python floats for the DDIM coefficients (no lookups).
        self._alphas = self.alphas_cumprod.tolist()
        self._graphs = CUDAGraphSampler() if cuda_graph else None

    def _norm(self, z: Tensor) -> Tensor:
        return normalise_latent(z) if self.latent_norm else z

    def _alpha(self, steps: Tensor) -> Tensor:
        """ᾱ_k for steps 1..K as ``(M, 1)``; step 0 gives 1."""
        padded = F.pad(self.alphas_cumprod, (1, 0), value=1.0)
        return padded[steps][:, None]

    def sample(self, condition: Tensor, noise: Tensor) -> Tensor:
        """DDIM from ``z_K = noise``: latents ``(M, D)`` for conditions
        ``(M, D)``. ε_θ's condition and step inputs are folded into one
        bias before the loop (:func:`fast_ddim_sample`)."""
        steps = ddim_timesteps(self.num_train_steps, self.num_inference_steps)
        sampler = self._graphs or fast_ddim_sample
        return self._norm(
            sampler(self.denoiser, condition, noise, steps, self._alphas))

    def loss(self, z0: Tensor,
             condition: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        """One noising step of random k (``loss_diff``) and the decoder's
        latent ``(M, D)`` (``train_latent``)."""
        steps = torch.randint(1, self.num_train_steps + 1, (len(z0), ),
                              device=z0.device)
        noise = torch.randn_like(z0)
        alpha = self._alpha(steps)
        z_k = add_noise(z0, noise, alpha)
        eps = self.denoiser(z_k, condition, steps)
        loss = self.loss_weight * F.mse_loss(eps.float(), noise.float())
        if self.train_latent == 'denoised':
            latent = self._norm(predict_z0(z_k, eps, alpha))
        elif self.train_latent == 'z0':
            latent = z0
        else:  # 'sampled': train on what is tested
            latent = self.sample(condition, torch.randn_like(z0))
        return latent, dict(loss_diff=loss)
