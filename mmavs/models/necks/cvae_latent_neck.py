"""``CVAELatentNeck``: the name of Table III's CVAE neck before the latent
model was composed, kept as :class:`LatentNeck` with the CVAE."""
from typing import Optional

from mmseg.registry import MODELS

from .cvae_latent_model import GaussianNet, gaussian_kl
from .latent_neck import LatentNeck

__all__ = ['CVAELatentNeck', 'GaussianNet', 'gaussian_kl']


@MODELS.register_module()
class CVAELatentNeck(LatentNeck):
    """:class:`LatentNeck` with a :class:`CVAELatentModel`, configured by
    the flat options of the earlier neck (same defaults; older checkpoints
    load, see :func:`upgrade_latent_neck_keys`).

    New configs write ``type='LatentNeck', latent_model=dict(
    type='CVAELatentModel', ...)`` instead
    (``configs/diffavs/ablations/table3_cvae.py``).

    Args:
        hidden: Width of E_phi / E_psi and of the prior / posterior nets.
        kl_loss_weight: Weight of ``loss_kl``.
        contrastive_loss: None by default (Table III, λ2 = 0).
        **kwargs: The other options of :class:`LatentNeck`.
    """

    def __init__(self,
                 fusion: dict,
                 hidden: int = 256,
                 kl_loss_weight: float = 1.0,
                 contrastive_loss: Optional[dict] = None,
                 **kwargs) -> None:
        latent_model = dict(type='CVAELatentModel', hidden=hidden,
                            kl_loss_weight=kl_loss_weight)
        super().__init__(fusion, latent_model=latent_model, hidden=hidden,
                         contrastive_loss=contrastive_loss, **kwargs)
