"""What DiffusionAVS's latent necks share: encoders, latent fusion, loops."""
from abc import abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor
from torch.nn import functional as F

from .latent_modules import ConditionEncoder, LatentFusion, MaskEncoder


def normalise_latent(z: Tensor) -> Tensor:
    """Scale each latent to unit RMS: ``√D · z / ‖z‖``."""
    return z * (z.shape[1]**0.5) / z.norm(dim=1, keepdim=True).clamp_min(1e-6)


class BaseLatentNeck(BaseModule):
    """A fusion neck whose deepest output also sees a per-frame latent.

    The skeleton of :class:`LatentDiffusionNeck` and :class:`CVAELatentNeck`:
    the wrapped fusion neck (``fusion``), E_phi (``mask_encoder``), E_psi
    (``cond_encoder``), D_tau with the fusion conv (``latent_fusion``), the
    optional contrastive loss and the per-frame seeds. A subclass adds the
    latent model between E_psi and D_tau (:meth:`_build_latent_model`),
    draws test-time latents (:meth:`sample`) and turns ground-truth latents
    into training latents and losses (:meth:`_latent_loss`).

    Call graph (N = B·T frames, M annotated ones, D = latent_dim)::

        loss(visual, audio_feat, T, frames, data_samples)
          fusion(visual, audio_feat, T)    → G_1..G_4, level_audio
          c  = cond_encoder(frames, audio_feat)              (N, D)
          latent (not annotated) = sample(c)  (no gradient)  (N - M, D)
          z0 = norm(mask_encoder(masks))                     (M, D)
          latent (annotated), losses = _latent_loss(z0, c)   (M, D)
          contrastive_loss(c, z0, clip ids) → loss_contrastive
          Ĝ_4 = latent_fusion(G_4, latent)
        predict(visual, audio_feat, T, frames, seeds, sample)
          latent = sample(c, per-frame seeds)                (N, D)
          Ĝ_4 = latent_fusion(G_4, latent)

    Args:
        fusion: Config of the wrapped fusion neck.
        channels: C, the fusion neck's output channels.
        latent_dim: D.
        hidden: h, width of the encoders' FC layers.
        condition: ``'audio-visual'``, ``'audio'``, ``'visual'``, ``'none'``.
        num_samples: Latents sampled per frame at test time.
        latent_norm: Normalise latents to unit RMS.
        contrastive_loss: Config of the contrastive loss, or None.
        seed: Base seed of the sampling noise.
        audio_channels: Size of the audio feature.
        init_cfg: Initialisation config.
        **latent_model: Options of :meth:`_build_latent_model`.
    """

    #: Keys of the losses :meth:`_latent_loss` returns (zero when no frame
    #: of the batch is annotated, so that every iteration logs them).
    latent_loss_names: Tuple[str, ...] = ()

    def __init__(self,
                 fusion: dict,
                 channels: int,
                 latent_dim: int,
                 hidden: int,
                 condition: str,
                 num_samples: int,
                 latent_norm: bool,
                 contrastive_loss: Optional[dict],
                 seed: int,
                 audio_channels: int,
                 init_cfg: Optional[dict] = None,
                 **latent_model) -> None:
        super().__init__(init_cfg)
        self.latent_dim = latent_dim
        # Construction order fixes the initial weights for a given seed.
        self.fusion = MODELS.build(fusion)
        self.mask_encoder = MaskEncoder(latent_dim, hidden)
        self.cond_encoder = ConditionEncoder(latent_dim, hidden, condition,
                                             audio_channels)
        self._build_latent_model(**latent_model)
        self.latent_fusion = LatentFusion(latent_dim, channels)
        self.contrastive_loss = MODELS.build(contrastive_loss) \
            if contrastive_loss else None
        self.num_samples = num_samples
        self.latent_norm = latent_norm
        self.seed = seed

    @abstractmethod
    def _build_latent_model(self, **options) -> None:
        """Add the latent model's modules (``self.latent_dim`` is set)."""

    @abstractmethod
    def sample(self, condition: Tensor, seeds: Sequence[int]) -> Tensor:
        """Latents ``(N, D)`` for conditions ``(N, D)``, noise drawn from one
        generator per frame seeded by ``seeds``."""

    @abstractmethod
    def _latent_loss(self, z0: Tensor,
                     condition: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        """Training latents ``(M, D)`` and losses of the annotated frames,
        from their ground-truth latents and conditions ``(M, D)``."""

    def _norm(self, z: Tensor) -> Tensor:
        return normalise_latent(z) if self.latent_norm else z

    def _noise(self, seeds: Sequence[int]) -> Tensor:
        """``(N, D)`` standard normal noise, one generator per seed (CPU,
        so that the draw does not depend on the device or the batch)."""
        return torch.stack([
            torch.randn(self.latent_dim,
                        generator=torch.Generator().manual_seed(s))
            for s in seeds
        ])

    def _fuse(self, fused: List[Tensor], latent: Tensor) -> List[Tensor]:
        return fused[:-1] + [self.latent_fusion(fused[-1], latent)]

    def predict(self, visual: List[Tensor], audio_feat: Tensor,
                num_frames: int, frames: Tensor,
                seeds: Optional[Sequence[int]] = None,
                sample_index: int = 0) -> Tuple[List[Tensor], list]:
        """Fused maps with a sampled latent. ``seeds``: one per frame."""
        fused, level_audio = self.fusion(visual, audio_feat, num_frames)
        condition = self.cond_encoder(frames, audio_feat)
        seeds = seeds if seeds is not None else range(len(frames))
        seeds = [(self.seed * 1_000_003 + s) * 97 + sample_index
                 for s in seeds]
        return self._fuse(fused, self.sample(condition, seeds)), level_audio

    def forward(self, visual: List[Tensor], audio_feat: Tensor,
                num_frames: int, frames: Tensor) -> Tuple[List[Tensor], list]:
        return self.predict(visual, audio_feat, num_frames, frames)

    def loss(self, visual: List[Tensor], audio_feat: Tensor, num_frames: int,
             frames: Tensor,
             data_samples: list) -> Tuple[List[Tensor], list, Dict]:
        """Fused maps for training and the latent losses.

        Returns:
            tuple: fused maps, level audio, and a dict with the subclass's
            ``latent_loss_names`` and (when configured) the contrastive loss.
        """
        fused, level_audio = self.fusion(visual, audio_feat, num_frames)
        condition = self.cond_encoder(frames, audio_feat)
        keep = [i for i, s in enumerate(data_samples)
                if s.metainfo.get('annotated', True)]
        latent = condition.new_zeros(len(frames), self.latent_dim)
        others = [i for i in range(len(frames)) if i not in set(keep)]
        if others:
            with torch.no_grad():
                latent[others] = self.sample(condition[others].detach(),
                                             others)
        losses: Dict[str, Tensor] = {}
        if keep:
            masks = torch.stack([data_samples[i].gt_sem_seg.data
                                 for i in keep]).float()
            masks = F.interpolate(masks, size=frames.shape[-2:],
                                  mode='nearest')
            z0 = self._norm(self.mask_encoder(masks))
            cond = condition[keep]
            kept, latent_losses = self._latent_loss(z0, cond)
            losses.update(latent_losses)
            latent = latent.index_put(
                (torch.tensor(keep, device=latent.device), ),
                kept.to(latent.dtype))  # they differ under autocast
            if self.contrastive_loss is not None:
                clips = torch.tensor([
                    data_samples[i].metainfo.get('clip_index', i // num_frames)
                    for i in keep
                ], device=z0.device)
                losses[self.contrastive_loss.loss_name] = \
                    self.contrastive_loss(cond, z0, clips)
        else:
            # Same keys every iteration (logging, DDP), with zero value.
            names = list(self.latent_loss_names)
            if self.contrastive_loss is not None:
                names.append(self.contrastive_loss.loss_name)
            losses = {name: condition.sum() * 0 for name in names}
        return self._fuse(fused, latent), level_audio, losses
