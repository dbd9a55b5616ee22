"""A visual backbone from the registry plus an audio encoder."""
import hashlib
import os.path as osp
from typing import Dict, List, Optional, Tuple

import torch
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn

from mmavs.structures import ClipLayout

from ..utils import STRICT_INIT_TYPES, check_pretrained_layout
from .vggish import VGGISH_EMBED_DIMS
from .visual_backbones import as_feature_maps, build_visual_backbone

PRETRAINED_DOC = 'docs/en/pretrained_weights.md'
# init_cfg types whose ``checkpoint`` file must exist when the model is built.
PRETRAINED_INIT_TYPES = ('Pretrained', ) + STRICT_INIT_TYPES


def check_pretrained_files(cfg: dict, key: str) -> None:
    """Fail at build time, not after data loading, if a weight file is absent.

    Raises:
        FileNotFoundError: naming the file, the config key to change and the
            documentation page.
    """
    init_cfgs = cfg.get('init_cfg') or []
    for init in init_cfgs if isinstance(init_cfgs, list) else [init_cfgs]:
        path = init.get('checkpoint') \
            if init.get('type') in PRETRAINED_INIT_TYPES else None
        if path and '://' not in path and not osp.isfile(path):
            raise FileNotFoundError(
                f'pretrained weights not found: {path} (from {key}.init_cfg). '
                f'See {PRETRAINED_DOC} for where to get it and where it goes; '
                f'to train from scratch instead pass --cfg-options '
                f'{key}.init_cfg=None')


@MODELS.register_module()
class AudioVisualBackbone(BaseModule):
    """Run a registered visual backbone on frames and an audio encoder on sound.

    Call graph::

        forward(frames (N, 3, H, W), audio (N, 1, 96, 64), layout)
          ├─ visual(frames)             → L maps (N, C_l, H_l, W_l)
          └─ audio(audio_frontend(audio) if audio_frontend else audio)
               → (N, 128)
               └─ audio_norm (optional, trainable) → (N, 128)
                  × frame_valid (padding frames: zero feature)

    Shapes and the clip layout: ``docs/en/architecture.md``.

    Args:
        visual: Config of any visual backbone in ``MODELS`` that returns a
            tuple of feature maps (e.g. mmseg ``ResNet``,
            ``MixVisionTransformer``), including other scopes' backbones
            (``'mmpretrain.ConvNeXt'``: :mod:`.visual_backbones`).
        audio: Config of the audio encoder; by default the frozen VGGish.
            None: no encoder, the audio feature is the front end's output
            itself (e.g. CPM's magnitude spectrograms ``(N, Ca, T, F)``,
            which its head encodes after mixing in off-screen noise).
        cache_audio: Remember the frozen audio encoder's output for each
            log-mel example seen, so that later epochs skip it (the frozen
            VGGish costs about as much as a small visual backbone). Only for
            an encoder without trainable parameters. Examples are keyed by
            a hash of their values, computed on the CPU: audio on a GPU is
            copied to the host once per batch (one synchronisation).
        audio_norm: Optional norm layer config (e.g. ``dict(type='BN1d')``)
            applied to the audio feature. Off by default, as in the
            references. A frozen encoder with random weights (the synthetic
            configs) gives embeddings that share one large common component
            (mean cosine similarity 0.94), and standardising them lets the
            fusion modules tell the sounds apart from the first iterations.
        audio_channels: Width of the audio feature (VGGish: 128,
            ``AudioResNet`` depth 18: 512, or its ``out_channels``).
        audio_frontend: Optional config of a front end in ``MODELS`` run on
            the per-frame audio before the encoder, e.g.
            ``dict(type='SpectrogramFrontEnd')`` with
            ``audio=dict(type='AudioResNet')`` for waveforms ``(N, A, S)``
            from ``LoadAudioWaveform``. None (default): the audio input is
            already what the encoder reads (precomputed VGGish log-mel).
        init_cfg: Initialisation config of the wrapper itself.
    """

    def __init__(self,
                 visual: dict,
                 audio: Optional[dict] = dict(type='VGGish', frozen=True),
                 cache_audio: bool = False,
                 audio_norm: Optional[dict] = None,
                 audio_channels: int = VGGISH_EMBED_DIMS,
                 audio_frontend: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        check_pretrained_files(visual, 'model.backbone.visual')
        if audio is not None:
            check_pretrained_files(audio, 'model.backbone.audio')
        self.visual = build_visual_backbone(visual, 'model.backbone.visual')
        self.audio = MODELS.build(audio) if audio is not None \
            else nn.Identity()
        # A file of the wrong layout fails here, not at init_weights.
        check_pretrained_layout(self.visual, visual, 'model.backbone.visual')
        if audio is not None:
            check_pretrained_layout(self.audio, audio, 'model.backbone.audio')
        self.audio_frontend = MODELS.build(audio_frontend) \
            if audio_frontend else None
        audio_parts = nn.ModuleList([self.audio, self.audio_frontend]) \
            if self.audio_frontend is not None else self.audio
        if cache_audio and any(p.requires_grad
                               for p in audio_parts.parameters()):
            raise ValueError('cache_audio needs a frozen audio encoder '
                             '(and a front end without trainable weights)')
        self._visual_type = visual.get('type')
        self.cache_audio = cache_audio
        self._audio_cache: Dict[bytes, Tensor] = {}
        self.audio_norm = build_norm_layer(audio_norm, audio_channels)[1] \
            if audio_norm else None

    def forward(self, frames: Tensor, audio: Tensor,
                layout: Optional[ClipLayout] = None
                ) -> Tuple[List[Tensor], Tensor]:
        """Return the visual feature maps and one audio feature per frame.

        Args:
            frames: ``(N, 3, H, W)``, clip by clip.
            audio: ``(N, ...)``, one audio input per frame (VGGish:
                ``(N, 1, 96, 64)`` log-mel).
            layout: The clip layout (``docs/en/architecture.md``); padding
                frames (``frame_valid`` False) get a zero audio feature, as
                in the AVSS reference.

        Returns:
            tuple: list of ``(N, C_l, H_l, W_l)``; ``(N, D_a)`` (without an
            encoder: the front end's output, e.g. ``(N, Ca, T, F)``).
        """
        if audio.shape[0] != frames.shape[0]:
            raise ValueError(
                f'audio of shape {tuple(audio.shape)} does not match '
                f'{frames.shape[0]} frames; expected one audio input per '
                f'frame, (N, ...)')
        audio_feat = self.audio_features(audio, layout)
        return as_feature_maps(self.visual(frames),
                               self._visual_type), audio_feat

    def audio_features(self, audio: Tensor,
                       layout: Optional[ClipLayout] = None) -> Tensor:
        """The audio half of :meth:`forward`: per-frame audio ``(N, ...)``
        → encoder (through the cache) → optional norm → ``(N, D_a)``, zero
        for padding frames. The segmentor's shuffled-audio pass calls it
        alone, reusing the visual maps."""
        audio_feat = self.encode_audio(audio)
        if self.audio_norm is not None:
            audio_feat = self.audio_norm(audio_feat)
        if layout is not None and not bool(layout.frame_valid.all()):
            valid = layout.frame_valid.to(audio_feat.dtype)
            audio_feat = audio_feat * valid.view(
                -1, *[1] * (audio_feat.dim() - 1))
        return audio_feat

    def embed_audio(self, examples: Tensor) -> Tensor:
        """Per-frame audio ``(N, ...)`` → front end (if any) → encoder →
        ``(N, D_a)``."""
        if self.audio_frontend is not None:
            examples = self.audio_frontend(examples)
        return self.audio(examples)

    def encode_audio(self, examples: Tensor) -> Tensor:
        """Per-frame audio ``(N, ...)`` (e.g. ``(N, 1, 96, 64)`` log-mel)
        → ``(N, D_a)``, through the cache."""
        if not self.cache_audio:
            return self.embed_audio(examples)
        # Keyed by content, so a shuffled or re-cut audio never hits a stale
        # entry. Which examples miss decides what runs through the encoder,
        # a host-side decision, so GPU audio costs one device-to-host copy
        # (one sync) per batch: the whole batch at once, not one copy per
        # example. Hashing in the data preprocessor, before the upload,
        # would avoid it, but the clip contract carries no per-example keys.
        host = examples.detach().cpu().numpy()
        keys = [hashlib.sha1(x.tobytes()).digest() for x in host]
        missing: Dict[bytes, int] = {}
        for i, key in enumerate(keys):
            if key not in self._audio_cache:
                missing.setdefault(key, i)
        if missing:
            with torch.no_grad():
                feats = self.embed_audio(examples[list(missing.values())])
            self._audio_cache.update(zip(missing, feats.detach()))
        return torch.stack([self._audio_cache[k] for k in keys])
