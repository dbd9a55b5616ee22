"""The CAVP neck: DeepLabV3+ feature, then sigmoid cross-attention fusion."""
from typing import List, Optional, Sequence

from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from mmavs.structures import ClipLayout

from .neck_output import NeckOutput


@MODELS.register_module()
class CAVPNeck(BaseModule):
    """``CAVPDecoder`` then ``SigmoidCrossAttentionFusion`` (``cavp.md`` §4).

    Call graph (N frames, ``docs/en/architecture.md``)::

        forward(visual L×(N, C_l, H_l, W_l), audio_feat (N, D_a), layout)
          prepare(visual) = decoder(visual)      u_v (N, 304, H/4, W/4),
                                                 audio-free
          fuse([u_v], audio_feat, layout)
            fusion(u_v, audio_feat)              (N, 304, H/4, W/4)
          → NeckOutput([fused], extras={level_audio: None, num_samples: 1,
                                        visual_prepared: [u_v]}, {})

    Per frame: the layout is not needed (CAVP trains on single images, T =
    1, and fuses each frame with its own audio at test time).
    ``extras['visual_prepared']`` with :meth:`fuse` lets the segmentor's
    shuffled-audio pass (``CAVPContrastiveLoss``) reuse ``u_v`` and re-run
    only the fusion.

    Args:
        decoder: Config of the audio-free part (``CAVPDecoder``).
        fusion: Config of the fusion (``SigmoidCrossAttentionFusion``).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 decoder: dict = dict(type='CAVPDecoder'),
                 fusion: dict = dict(type='SigmoidCrossAttentionFusion'),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.decoder = MODELS.build(decoder)
        self.fusion = MODELS.build(fusion)

    def prepare(self, visual: Sequence[Tensor]) -> List[Tensor]:
        """The audio-free maps: ``[u_v]``."""
        return [self.decoder(list(visual))]

    def fuse(self, prepared: List[Tensor], audio_feat: Tensor,
             layout: Optional[ClipLayout] = None) -> NeckOutput:
        """Fuse the audio into :meth:`prepare`'s maps."""
        (u_v, ) = prepared
        if u_v.shape[0] != audio_feat.shape[0]:
            raise ValueError(f'{u_v.shape[0]} frames but audio_feat has '
                             f'{audio_feat.shape[0]}')
        fused = self.fusion(u_v, audio_feat)
        return NeckOutput([fused],
                          dict(level_audio=None, num_samples=1,
                               visual_prepared=prepared), {})

    def forward(self, visual: Sequence[Tensor], audio_feat: Tensor,
                layout: Optional[ClipLayout] = None,
                frames: Optional[Tensor] = None,
                data_samples: Optional[list] = None) -> NeckOutput:
        """Return ``NeckOutput([fused (N, 304, H/4, W/4)], extras, {})``;
        ``frames`` and ``data_samples`` are unused (the common neck
        interface)."""
        return self.fuse(self.prepare(visual), audio_feat, layout)
