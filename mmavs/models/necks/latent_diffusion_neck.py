"""``LatentDiffusionNeck``: the name DiffusionAVS configs used before the
latent model was composed, kept as :class:`LatentNeck` with the diffusion."""
from typing import Optional

from mmseg.registry import MODELS

from .latent_modules import normalise_latent
from .latent_neck import LatentNeck

__all__ = ['LatentDiffusionNeck', 'normalise_latent']


@MODELS.register_module()
class LatentDiffusionNeck(LatentNeck):
    """:class:`LatentNeck` with a :class:`DiffusionLatentModel`, configured
    by the flat options of the earlier neck (same defaults, same state-dict
    keys as ``LatentNeck``; older checkpoints load, see
    :func:`upgrade_latent_neck_keys`).

    New configs write ``type='LatentNeck', latent_model=dict(
    type='DiffusionLatentModel', ...)`` instead.

    Args:
        denoiser_width, num_train_steps, num_inference_steps,
        train_latent: Options of :class:`DiffusionLatentModel`.
        diffusion_loss_weight: Its ``loss_weight`` (λ1).
        contrastive_loss: As in :class:`LatentNeck`, on by default here
            (λ2 = 0.1).
        **kwargs: The other options of :class:`LatentNeck`.
    """

    def __init__(self,
                 fusion: dict,
                 denoiser_width: int = 384,
                 num_train_steps: int = 20,
                 num_inference_steps: int = 10,
                 train_latent: str = 'denoised',
                 diffusion_loss_weight: float = 1.0,
                 contrastive_loss: Optional[dict] = dict(
                     type='ContrastiveLoss', loss_weight=0.1),
                 **kwargs) -> None:
        latent_model = dict(
            type='DiffusionLatentModel', denoiser_width=denoiser_width,
            num_train_steps=num_train_steps,
            num_inference_steps=num_inference_steps,
            train_latent=train_latent, loss_weight=diffusion_loss_weight)
        super().__init__(fusion, latent_model=latent_model,
                         contrastive_loss=contrastive_loss, **kwargs)
