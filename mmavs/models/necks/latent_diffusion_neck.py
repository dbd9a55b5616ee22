"""DiffusionAVS's conditional latent diffusion, as a neck around TPAVI."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor
from torch.nn import functional as F

from ..utils.diffusion_schedule import (add_noise, cosine_alphas_cumprod,
                                        ddim_step, ddim_timesteps, predict_z0)
from .latent_modules import (ConditionEncoder, LatentFusion, MaskEncoder,
                             NoiseEstimator)


def normalise_latent(z: Tensor) -> Tensor:
    """Scale each latent to unit RMS: ``√D · z / ‖z‖``."""
    return z * (z.shape[1]**0.5) / z.norm(dim=1, keepdim=True).clamp_min(1e-6)


@MODELS.register_module()
class LatentDiffusionNeck(BaseModule):
    """Contrastive conditional latent diffusion (DiffusionAVS) on a fusion neck.

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
    """

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
        super().__init__(init_cfg)
        if train_latent not in ('denoised', 'z0'):
            raise ValueError(f'unknown train_latent "{train_latent}"')
        ddim_timesteps(num_train_steps, num_inference_steps)  # validates
        self.fusion = MODELS.build(fusion)
        self.mask_encoder = MaskEncoder(latent_dim, hidden)
        self.cond_encoder = ConditionEncoder(latent_dim, hidden, condition,
                                             audio_channels)
        self.denoiser = NoiseEstimator(latent_dim, denoiser_width)
        self.latent_fusion = LatentFusion(latent_dim, channels)
        self.contrastive_loss = MODELS.build(contrastive_loss) \
            if contrastive_loss else None
        self.register_buffer('alphas_cumprod',
                             cosine_alphas_cumprod(num_train_steps).float(),
                             persistent=False)
        self.latent_dim = latent_dim
        self.num_train_steps = num_train_steps
        self.num_inference_steps = num_inference_steps
        self.num_samples = num_samples
        self.latent_norm = latent_norm
        self.train_latent = train_latent
        self.diffusion_loss_weight = diffusion_loss_weight
        self.seed = seed

    def _norm(self, z: Tensor) -> Tensor:
        return normalise_latent(z) if self.latent_norm else z

    def _alpha(self, steps: Tensor) -> Tensor:
        """ᾱ_k for steps 1..K as ``(N, 1)``; step 0 gives 1."""
        padded = F.pad(self.alphas_cumprod, (1, 0), value=1.0)
        return padded[steps][:, None]

    def sample(self, condition: Tensor, seeds: Sequence[int]) -> Tensor:
        """DDIM from z_K ~ N(0, I), one generator per frame: ``(N, D)``."""
        noise = [torch.randn(self.latent_dim,
                             generator=torch.Generator().manual_seed(s))
                 for s in seeds]
        z = torch.stack(noise).to(condition)
        steps = ddim_timesteps(self.num_train_steps, self.num_inference_steps)
        for k, k_prev in zip(steps, steps[1:] + [0]):
            k_t = torch.full((len(z), ), k, device=z.device, dtype=torch.long)
            eps = self.denoiser(z, condition, k_t)
            z = ddim_step(z, eps, self._alpha(k_t),
                          self._alpha(torch.full_like(k_t, k_prev)))
        return self._norm(z)

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
            tuple: fused maps, level audio, and a dict with ``loss_diff``
            and (when configured) ``loss_contrastive``.
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
            steps = torch.randint(1, self.num_train_steps + 1, (len(keep), ),
                                  device=z0.device)
            noise = torch.randn_like(z0)
            alpha = self._alpha(steps)
            z_k = add_noise(z0, noise, alpha)
            eps = self.denoiser(z_k, cond, steps)
            losses['loss_diff'] = self.diffusion_loss_weight * F.mse_loss(
                eps, noise)
            one_step = self._norm(predict_z0(z_k, eps, alpha))
            latent = latent.index_put(
                (torch.tensor(keep, device=latent.device), ),
                one_step if self.train_latent == 'denoised' else z0)
            if self.contrastive_loss is not None:
                clips = torch.tensor([
                    data_samples[i].metainfo.get('clip_index', i // num_frames)
                    for i in keep
                ], device=z0.device)
                losses[self.contrastive_loss.loss_name] = \
                    self.contrastive_loss(cond, z0, clips)
        else:
            # Same keys every iteration (logging, DDP), with zero value.
            losses['loss_diff'] = condition.sum() * 0
            if self.contrastive_loss is not None:
                losses[self.contrastive_loss.loss_name] = condition.sum() * 0
        return self._fuse(fused, latent), level_audio, losses
