"""The CVAE latent of DiffusionAVS's Table III: the latent model of
:class:`LatentNeck` (``docs/en/diffavs.md``)."""
from typing import Dict, Tuple

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn

from .latent_modules import TwoLayerMLP, normalise_latent


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
class CVAELatentModel(BaseModule):
    """Prior and posterior Gaussians instead of the latent diffusion.

    Shapes per frame: M frames, D = ``latent_dim``::

        sample(c (M, D), ε (M, D))
          μ_p, log σ²_p = prior(c)        → norm(μ_p + σ_p ⊙ ε)    (M, D)
        loss(z0 (M, D), c (M, D))
          μ_p, log σ²_p = prior(c); μ_q, log σ²_q = posterior([c, z0])
          latent = norm(μ_q + σ_q ⊙ ε), ε ~ N(0, I) (global RNG)
          loss_kl = w · mean_frames Σ_d KL(q ‖ p)

    The decisions the paper leaves open are in ``docs/en/diffavs.md``.

    Args:
        latent_dim: D (set by the latent neck).
        hidden: h, width of the prior / posterior nets (256).
        kl_loss_weight: Weight of ``loss_kl`` (1).
        latent_norm: Normalise the sample to unit RMS (set by the neck).
        init_cfg: Initialisation config.
    """

    loss_names: Tuple[str, ...] = ('loss_kl', )

    def __init__(self,
                 latent_dim: int = 24,
                 hidden: int = 256,
                 kl_loss_weight: float = 1.0,
                 latent_norm: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        self.prior = GaussianNet(latent_dim, hidden, latent_dim)
        self.posterior = GaussianNet(2 * latent_dim, hidden, latent_dim)
        self.latent_dim = latent_dim
        self.kl_loss_weight = kl_loss_weight
        self.latent_norm = latent_norm

    def _norm(self, z: Tensor) -> Tensor:
        return normalise_latent(z) if self.latent_norm else z

    def sample(self, condition: Tensor, noise: Tensor) -> Tensor:
        """A prior sample per frame: ``(M, D)``."""
        mean, log_var = self.prior(condition)
        return self._norm(mean + torch.exp(0.5 * log_var) * noise)

    def loss(self, z0: Tensor,
             condition: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        """A reparameterised posterior sample and ``loss_kl``."""
        mean_p, log_var_p = self.prior(condition)
        mean_q, log_var_q = self.posterior(torch.cat([condition, z0], dim=1))
        z = mean_q + torch.exp(0.5 * log_var_q) * torch.randn_like(mean_q)
        kl = gaussian_kl(mean_q.float(), log_var_q.float(), mean_p.float(),
                         log_var_p.float()).mean()
        return self._norm(z), dict(loss_kl=self.kl_loss_weight * kl)
