"""The neck of models whose head does the fusion (AVSegFormer)."""
from typing import List, Optional, Sequence

from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from mmavs.structures import ClipLayout

from .neck_output import NeckOutput


@MODELS.register_module()
class IdentityNeck(BaseModule):
    """Hand the backbone's maps to the head unchanged.

    ``AVSSegmentor(neck=None)`` builds this, so that the segmentor has one
    path. Interface as every neck (``docs/en/architecture.md``)::

        forward(visual L×(N, C_l, H_l, W_l), audio_feat (N, D_a), layout,
                frames, data_samples)
          → NeckOutput(fused=visual, extras={level_audio: None,
                                             num_samples: 1}, losses={})
    """

    def forward(self, visual: Sequence[Tensor], audio_feat: Tensor,
                layout: ClipLayout, frames: Optional[Tensor] = None,
                data_samples: Optional[List] = None) -> NeckOutput:
        return NeckOutput(list(visual), dict(level_audio=None, num_samples=1),
                          {})
