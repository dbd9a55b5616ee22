"""The CVAE latent baseline of DiffusionAVS's Table III, as a neck."""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmseg.registry import MODELS
from torch import Tensor, nn

from .base_latent_neck import BaseLatentNeck
from .latent_modules import TwoLayerMLP


def gaussian_kl(mean_q: Tensor, log_var_q: Tensor, mean_p: Tensor,
                log_var_p: Tensor) -> Tensor:
    """KL(q ‖ p) of diagonal Gaussians, summed over the last dimension.

    ``½ Σ_d [log σ²_p − log σ²_q + (σ²_q + (μ_q − μ_p)²) / σ²_p − 1]``;
    inputs ``(N, D)``, output ``(N,)``.
    """
    ratio = torch.exp(log_var_q - log_var_p)
    mahalanobis = (mean_q - mean_p).pow(2) * torch.exp(-log_var_p)
    return 0.5 * (ratio + mahalanobis - 1 - (log_var_q - log_var_p)).sum(-1)


class GaussianNet(nn.Module):
    """FC → LeakyReLU → FC to a diagonal Gaussian.

    ``(N, in_features)`` → mean ``(N, D)``, log-variance ``(N, D)``.
    """

    def __init__(self, in_features: int, hidden: int,
                 latent_dim: int) -> None:
        super().__init__()
        self.fc = TwoLayerMLP(in_features, hidden, 2 * latent_dim)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        mean, log_var = self.fc(x).chunk(2, dim=1)
        return mean, log_var


@MODELS.register_module()
class CVAELatentNeck(BaseLatentNeck):
    """The CVAE latent baseline (Table III, Fig. 4 of DiffusionAVS).

    Same interface, encoders and fusion as :class:`LatentDiffusionNeck`
    (both are :class:`BaseLatentNeck`): only the latent model differs. A
    prior net on the condition c = E_psi(frame, audio) and a posterior net
    on (c, z0), z0 = E_phi(mask), each give a diagonal Gaussian; training
    fuses a reparameterised posterior sample and adds KL(q ‖ p); testing
    fuses a prior sample. The sample is fused into G_4 exactly like the
    diffusion's ẑ0 (tile, D_tau, concat, conv). Swapping the neck's type
    (and its latent-model options) in a DiffusionAVS config gives the
    Table III CVAE row (``configs/diffavs/ablations/table3_cvae.py``).

    Call graph (N = B·T frames, M annotated ones, D = latent_dim)::

        loss(visual, audio_feat, T, frames, data_samples)
          fusion(visual, audio_feat, T)    → G_1..G_4, level_audio
          c  = cond_encoder(frames, audio_feat)               (N, D)
          latent (not annotated) = sample(c)   (no gradient)
          z0 = norm(mask_encoder(masks))                      (M, D)
          μ_p, log σ²_p = prior(c)                            (M, D) each
          μ_q, log σ²_q = posterior([c, z0])                  (M, D) each
          latent (annotated) = norm(μ_q + σ_q ⊙ ε), ε ~ N(0, I)
          loss_kl = w · mean_frames Σ_d KL(q ‖ p)
          [contrastive_loss(c, z0, clip ids) → loss_contrastive]
          Ĝ_4 = latent_fusion(G_4, latent)
        predict(visual, audio_feat, T, frames, seeds, sample)
          μ_p, log σ²_p = prior(c)                            (N, D) each
          latent = norm(μ_p + σ_p ⊙ ε), ε from a generator seeded per
                   frame and sample (the diffusion's z_K noise)
          Ĝ_4 = latent_fusion(G_4, latent)

    Decisions (the paper gives none of these; ``docs/en/diffavs.md``):

    - Prior and posterior nets are FC(in → h) + LeakyReLU + FC(h → 2D)
      (mean and log-variance), in = D for the prior (c) and 2D for the
      posterior (c concatenated with z0); E_phi / E_psi are the diffusion
      neck's, so z0 and c are the same tensors as there.
    - ``loss_kl`` is the exact KL of the D-dimensional Gaussians (summed
      over D), averaged over the annotated frames, times
      ``kl_loss_weight`` (1); no KL annealing, no clamping of the
      log-variances.
    - ``latent_norm`` (default on, as in the diffusion neck): z0 is
      normalised to unit RMS before the posterior net, and the sample
      before the fusion, in training and testing alike; the KL is taken
      on the Gaussians themselves.
    - No contrastive loss by default: Table III trains CVAE and LDM with
      λ2 = 0. ``contrastive_loss`` (on c and z0, as in the diffusion neck)
      can still be configured.
    - Frames without a mask in training (S4 frames 2–5) fuse a prior
      sample drawn without gradient, as the diffusion neck does with its
      DDIM sample.
    - Test-time noise: the same per-frame seeded generators as the
      diffusion neck, so predictions do not depend on the batch;
      ``num_samples`` > 1 averages several prior samples.

    Args:
        fusion: Config of the wrapped fusion neck.
        channels: C, the fusion neck's output channels.
        latent_dim: D (24).
        hidden: h, width of the encoders' and the prior / posterior nets'
            FC layers (256).
        condition: ``'audio-visual'``, ``'audio'``, ``'visual'``, ``'none'``.
        num_samples: Latents sampled per frame at test time (their
            predictions are averaged; their spread is the uncertainty).
        latent_norm: Normalise z0 and the sampled latents to unit RMS.
        kl_loss_weight: Weight of ``loss_kl`` (1).
        contrastive_loss: Config of the contrastive loss, or None (default,
            as in Table III).
        seed: Base seed of the sampling noise.
        audio_channels: Size of the audio feature (128 for VGGish).
        init_cfg: Initialisation config.
    """

    latent_loss_names = ('loss_kl', )

    def __init__(self,
                 fusion: dict,
                 channels: int = 128,
                 latent_dim: int = 24,
                 hidden: int = 256,
                 condition: str = 'audio-visual',
                 num_samples: int = 1,
                 latent_norm: bool = True,
                 kl_loss_weight: float = 1.0,
                 contrastive_loss: Optional[dict] = None,
                 seed: int = 0,
                 audio_channels: int = 128,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(fusion, channels, latent_dim, hidden, condition,
                         num_samples, latent_norm, contrastive_loss, seed,
                         audio_channels, init_cfg, net_hidden=hidden)
        self.kl_loss_weight = kl_loss_weight

    def _build_latent_model(self, net_hidden: int) -> None:
        self.prior = GaussianNet(self.latent_dim, net_hidden, self.latent_dim)
        self.posterior = GaussianNet(2 * self.latent_dim, net_hidden,
                                     self.latent_dim)

    def sample(self, condition: Tensor, seeds: Sequence[int]) -> Tensor:
        """A prior sample per frame, noise seeded per frame: ``(N, D)``."""
        mean, log_var = self.prior(condition)
        noise = self._noise(seeds).to(condition)
        return self._norm(mean + torch.exp(0.5 * log_var) * noise)

    def _latent_loss(self, z0: Tensor,
                     condition: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        """A reparameterised posterior sample and ``loss_kl``."""
        mean_p, log_var_p = self.prior(condition)
        mean_q, log_var_q = self.posterior(torch.cat([condition, z0], dim=1))
        z = mean_q + torch.exp(0.5 * log_var_q) * torch.randn_like(mean_q)
        kl = gaussian_kl(mean_q, log_var_q, mean_p, log_var_p).mean()
        return self._norm(z), dict(loss_kl=self.kl_loss_weight * kl)
