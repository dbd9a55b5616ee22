"""DiffusionAVS's latent neck: a fusion neck whose deepest output also sees a
per-frame latent, the latent model composed by config."""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Mapping, Optional

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor
from torch.nn import functional as F

from mmavs.structures import ClipLayout

from ..utils.noise_seeds import latent_noise
from .latent_modules import (ConditionEncoder, LatentFusion, MaskEncoder,
                             normalise_latent)
from .neck_output import NeckOutput

#: Test-time latents :meth:`LatentNeck.latent_source` can put in place of the
#: sampled one (``tools/analysis_tools/latent_ablation.py``).
LATENT_SOURCES = ('sampled', 'oracle', 'zero', 'noise', 'other_clip')

# Sub-modules of the latent models that sat directly in the latent necks
# before the latent model was composed (LatentDiffusionNeck: denoiser;
# CVAELatentNeck: prior, posterior).
_OLD_LATENT_MODEL_PARTS = ('denoiser', 'prior', 'posterior')


def upgrade_latent_neck_keys(state_dict: Mapping, prefix: str = '') -> Dict:
    """Rename a latent neck's checkpoint keys saved before the latent model
    was composed: ``{prefix}denoiser.*`` / ``prior.*`` / ``posterior.*`` →
    ``{prefix}latent_model.…``. Other keys, and keys already in the new
    layout, are returned unchanged (in the same order)."""
    old = tuple(f'{prefix}{part}.' for part in _OLD_LATENT_MODEL_PARTS)
    renamed = {}
    for key, value in state_dict.items():
        if key.startswith(old):
            key = f'{prefix}latent_model.{key[len(prefix):]}'
        renamed[key] = value
    return renamed


def other_clip_frames(layout: ClipLayout) -> Tensor:
    """``(N,)``: for each frame, the frame of the same index (or the last
    one, if shorter) in the next clip of the batch, cyclically."""
    if layout.num_clips < 2:
        raise ValueError('another clip\'s latent needs a batch of at least '
                         'two clips')
    lengths = torch.tensor(layout.lengths)
    offsets = torch.cumsum(lengths, 0) - lengths
    partner = (layout.batch_clip.cpu() + 1) % layout.num_clips
    index = torch.minimum(layout.frame_index.cpu(), lengths[partner] - 1)
    return offsets[partner] + index


@MODELS.register_module()
class LatentNeck(BaseModule):
    """Wrap a fusion neck and fuse a per-frame latent into its deepest map.

    The latent model (:class:`DiffusionLatentModel` for DiffusionAVS,
    :class:`CVAELatentModel` for Table III's CVAE row) is a config key, so
    the rows of Table III differ in ``latent_model`` only. Common interface
    of every neck (shapes: ``docs/en/architecture.md``; N frames, M of them
    annotated, D = ``latent_dim``, S = ``num_samples``)::

        forward(visual, audio_feat, layout, frames, data_samples)
          fusion(visual, audio_feat, layout)  → G_1..G_4, level_audio
          c = cond_encoder(frames, audio_feat)                  (N, D)
          training (data_samples given):
            z0 = norm(mask_encoder(masks of annotated frames))  (M, D)
            latent, losses = latent_model.loss(z0, c)           (M, D)
            latent (others) = latent_model.sample(c, fresh noise), no grad
            contrastive_loss(c, z0, clip ids)  → loss_contrastive
            Ĝ_4 = latent_fusion(G_4, latent)
            → NeckOutput([G_1..G_3, Ĝ_4], {level_audio, num_samples: 1},
                         losses)
          test (data_samples None):
            latent = latent_model.sample(c repeated S×, seeded noise)
                                                                (S·N, D)
            Ĝ_4 = latent_fusion(G_4 repeated S×, latent)
            → NeckOutput([G_1..G_3, Ĝ_4], {level_audio, num_samples: S},
                         {})     G_1..G_3 (N, C, H_l, W_l), shared by the
                                 samples; Ĝ_4 (S·N, C, H_4, W_4)

    The fusion runs once however many latents are sampled. Noise follows
    :mod:`mmavs.models.utils.noise_seeds`: per (seed, clip, frame, sample)
    at test time, fresh every iteration in training.

    Checkpoints of ``LatentDiffusionNeck`` / ``CVAELatentNeck`` saved before
    the latent model was composed load unchanged: their keys are renamed on
    load by :func:`upgrade_latent_neck_keys`.

    Args:
        fusion: Config of the wrapped fusion neck (e.g. ``TPAVINeck``).
        latent_model: Config of the latent model; ``latent_dim`` and
            ``latent_norm`` are filled in from the neck's.
        channels: C, the fusion neck's output channels.
        latent_dim: D (24).
        hidden: h, width of E_phi's and E_psi's FC layers (256).
        condition: ``'audio-visual'``, ``'audio'``, ``'visual'``, ``'none'``.
        num_samples: S, latents sampled per frame at test time (their
            predictions are averaged; their spread is the uncertainty).
        latent_norm: Normalise latents to unit RMS.
        contrastive_loss: Config of the contrastive loss on (c, z0), or None.
        seed: Base seed of the sampling noise.
        audio_channels: Size of the audio feature (128 for VGGish).
        mask_classes: 1 for binary masks (E_phi reads the mask as one
            channel); C > 1 for class maps (AVSS: 71), which E_phi reads as
            C one-hot channels (ignored pixels: all zero).
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 fusion: dict,
                 latent_model: dict = dict(type='DiffusionLatentModel'),
                 channels: int = 128,
                 latent_dim: int = 24,
                 hidden: int = 256,
                 condition: str = 'audio-visual',
                 num_samples: int = 1,
                 latent_norm: bool = True,
                 contrastive_loss: Optional[dict] = None,
                 seed: int = 0,
                 audio_channels: int = 128,
                 mask_classes: int = 1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if num_samples < 1:
            raise ValueError(f'num_samples must be positive, got '
                             f'{num_samples}')
        self.latent_dim = latent_dim
        # Construction order fixes the initial weights for a given seed (the
        # order of the necks before the latent model was composed).
        self.fusion = MODELS.build(fusion)
        if mask_classes < 1:
            raise ValueError(f'mask_classes must be positive, got '
                             f'{mask_classes}')
        self.mask_classes = mask_classes
        self.mask_encoder = MaskEncoder(latent_dim, hidden, mask_classes)
        self.cond_encoder = ConditionEncoder(latent_dim, hidden, condition,
                                             audio_channels)
        latent_model = dict(latent_model)
        latent_model.setdefault('latent_dim', latent_dim)
        latent_model.setdefault('latent_norm', latent_norm)
        self.latent_model = MODELS.build(latent_model)
        self.latent_fusion = LatentFusion(latent_dim, channels)
        self.contrastive_loss = MODELS.build(contrastive_loss) \
            if contrastive_loss else None
        self.num_samples = num_samples
        self.latent_norm = latent_norm
        self.seed = seed
        self._latent_source = ('sampled', None)
        self._register_load_state_dict_pre_hook(self._upgrade_keys)

    @contextmanager
    def latent_source(self, source: str,
                      masks: Optional[Tensor] = None) -> Iterator[None]:
        """Within the block, test-time latents come from ``source``: an
        analysis of how much the decoder uses its latent
        (``tools/analysis_tools/latent_ablation.py``). Training is not
        affected.

        - ``'sampled'``: the latent model's sample (the default).
        - ``'oracle'``: E_phi of the true masks, ``norm(mask_encoder(y))``,
          what the decoder sees in training with ``train_latent='z0'``;
          ``masks`` ``(N, 1, H, W)`` (1 = sounding), one per frame.
        - ``'zero'``: a zero latent.
        - ``'noise'``: the sampler's starting noise z_K, normalised like a
          latent (its scale without its information).
        - ``'other_clip'``: the sampled latent of the frame with the same
          index in the next clip of the batch (cyclically; needs two clips).
        """
        if source not in LATENT_SOURCES:
            raise ValueError(f'unknown latent source "{source}"; expected '
                             f'one of {LATENT_SOURCES}')
        if (source == 'oracle') != (masks is not None):
            raise ValueError('masks are needed for, and only for, the '
                             '"oracle" latent source')
        previous = self._latent_source
        self._latent_source = (source, masks)
        try:
            yield
        finally:
            self._latent_source = previous

    @staticmethod
    def _upgrade_keys(state_dict, prefix, *args) -> None:
        """Load checkpoints saved before the latent model was composed."""
        upgraded = upgrade_latent_neck_keys(state_dict, prefix)
        if list(upgraded) != list(state_dict):
            state_dict.clear()
            state_dict.update(upgraded)

    def _encoder_input(self, labels: Tensor) -> Tensor:
        """E_phi's input from ``(M, 1, H, W)`` labels: the mask as a float
        channel (binary), or C one-hot channels (class maps; a pixel
        outside 0..C-1, e.g. 255 = ignore, is all zero)."""
        if self.mask_classes == 1:
            return labels.float()
        labels = labels[:, 0].long()
        inside = (labels >= 0) & (labels < self.mask_classes)
        one_hot = F.one_hot(torch.where(inside, labels, 0), self.mask_classes)
        one_hot = one_hot * inside[..., None]
        return one_hot.permute(0, 3, 1, 2).float()

    def _norm(self, z: Tensor) -> Tensor:
        return normalise_latent(z) if self.latent_norm else z

    def forward(self, visual: List[Tensor], audio_feat: Tensor,
                layout: ClipLayout, frames: Tensor,
                data_samples: Optional[list] = None) -> NeckOutput:
        """Fused maps with the latent in the deepest one.

        Args:
            visual: L maps ``(N, C_l, H_l, W_l)``.
            audio_feat: ``(N, D_a)``.
            layout: The clip layout.
            frames: ``(N, 3, H, W)`` normalised frames (E_psi's input).
            data_samples: The N frame samples with their masks in the loss
                path; None at test time (latents are then sampled and no
                losses are returned).
        """
        out = self.fusion(visual, audio_feat, layout)
        condition = self.cond_encoder(frames, audio_feat)
        if data_samples is None:
            return self._sample(out, condition, layout, frames)
        return self._train(out, condition, layout, frames, data_samples)

    def _sample(self, out: NeckOutput, condition: Tensor,
                layout: ClipLayout, frames: Tensor) -> NeckOutput:
        num = self.num_samples
        noise = latent_noise(layout, self.latent_dim, self.seed, num)
        latent = self._test_latent(condition, noise.to(condition), layout,
                                   frames)
        # Only the deepest level carries the latent: the others stay (N,
        # ...), shared by the samples, and the head decodes what depends on
        # them once (AVSDecodeHead.forward_samples). cat, not repeat: it
        # keeps TPAVI's channels-last strides, and a head fed levels in
        # mixed layouts runs markedly slower on CPU.
        fused = list(out.fused)
        deepest = torch.cat([fused[-1]] * num) if num > 1 else fused[-1]
        fused[-1] = self.latent_fusion(deepest, latent)
        extras = dict(out.extras, num_samples=num)
        return NeckOutput(fused, extras, {})

    def _test_latent(self, condition: Tensor, noise: Tensor,
                     layout: ClipLayout, frames: Tensor) -> Tensor:
        """``(S·N, D)`` test-time latents from :meth:`latent_source`."""
        source, masks = self._latent_source
        num = self.num_samples
        if source == 'zero':
            return torch.zeros_like(noise)
        if source == 'noise':
            return self._norm(noise)
        if source == 'oracle':
            if masks.shape[0] != len(layout):
                raise ValueError(f'{masks.shape[0]} oracle masks for '
                                 f'{len(layout)} frames')
            masks = F.interpolate((masks == 1).float().to(frames.device),
                                  size=frames.shape[-2:], mode='nearest')
            return self._norm(self.mask_encoder(masks)).to(
                condition.dtype).repeat(num, 1)
        latent = self.latent_model.sample(condition.repeat(num, 1), noise)
        if source == 'other_clip':
            partner = other_clip_frames(layout).to(latent.device)
            offsets = torch.arange(num, device=latent.device) * len(layout)
            latent = latent[(offsets[:, None] + partner[None]).flatten()]
        return latent

    def _train(self, out: NeckOutput, condition: Tensor, layout: ClipLayout,
               frames: Tensor, data_samples: list) -> NeckOutput:
        annotated = layout.annotated.to(condition.device)
        keep = annotated.nonzero()[:, 0]
        others = (~annotated).nonzero()[:, 0]
        losses: Dict[str, Tensor] = dict(out.losses)
        pieces = []
        if len(others):
            noise = latent_noise(layout, self.latent_dim, self.seed,
                                 training=True, frames=others)
            with torch.no_grad():
                pieces.append(self.latent_model.sample(
                    condition[others].detach(), noise.to(condition)))
        if len(keep):
            masks = self._encoder_input(torch.stack(
                [data_samples[i].gt_sem_seg.data for i in keep.tolist()]))
            masks = F.interpolate(masks.to(frames.device),
                                  size=frames.shape[-2:], mode='nearest')
            z0 = self._norm(self.mask_encoder(masks))
            cond = condition[keep]
            kept, latent_losses = self.latent_model.loss(z0, cond)
            pieces.append(kept)
            losses.update(latent_losses)
            if self.contrastive_loss is not None:
                clips = layout.clip_index.to(keep.device)[keep]
                losses[self.contrastive_loss.loss_name] = \
                    self.contrastive_loss(cond, z0, clips)
        else:
            # Same keys every iteration (logging, DDP), with zero value.
            names = list(self.latent_model.loss_names)
            if self.contrastive_loss is not None:
                names.append(self.contrastive_loss.loss_name)
            losses.update({name: condition.sum() * 0 for name in names})
        # Reassemble in frame order; the pieces may differ in dtype under
        # autocast (a sample computed in float32, the trained latent in
        # bfloat16), so cast to the trained piece's dtype.
        dtype = pieces[-1].dtype
        order = torch.cat([others, keep])
        latent = torch.cat([p.to(dtype) for p in pieces])[torch.argsort(order)]
        fused = list(out.fused)
        fused[-1] = self.latent_fusion(fused[-1], latent)
        return NeckOutput(fused, dict(out.extras, num_samples=1), losses)
