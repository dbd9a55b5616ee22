"""CAVP's classifier head on the fused 304-channel map."""
from typing import List, Optional

from mmseg.registry import MODELS
from torch import Tensor, nn

from mmavs.structures import ClipLayout

from .avs_decode_head import AVSDecodeHead


@MODELS.register_module()
class CAVPHead(AVSDecodeHead):
    """conv3×3 → BN → ReLU → conv3×3 → BN → ReLU → 1×1 to K (``cavp.md`` §4).

    Call graph (N frames, ``docs/en/architecture.md``)::

        forward([fused (N, 304, H/4, W/4)])
          convs: conv3x3 304→256 (no bias), BN, ReLU,
                 conv3x3 256→256 (no bias), BN, ReLU
          conv_seg: 1x1 256→K                  logits (N, K, H/4, W/4)

    The logits are resized bilinearly (``align_corners=False``) to the label
    size in the loss and to the input size in ``predict_by_feat``, as the
    reference resizes them to the input. K = 22 (VPO), 71 (AVSS), 2
    (AVSBench-object); softmax cross-entropy with ignore 255, averaged over
    the non-ignored pixels (torch's ``ignore_index`` mean, as the
    reference), on the frames the layout marks annotated.

    Args:
        in_channels: Channels of the fused map (304).
        channels: Width of the two 3x3 convs (256).
        **kwargs: See :class:`AVSDecodeHead` (``num_classes``,
            ``out_channels`` = K, ``loss_decode``).
    """

    def __init__(self, in_channels: int = 304, channels: int = 256,
                 **kwargs) -> None:
        kwargs.setdefault('align_corners', False)
        kwargs.setdefault('loss_decode', dict(
            type='CrossEntropyLoss', use_sigmoid=False, avg_non_ignore=True,
            loss_weight=1.0))
        super().__init__(in_channels=in_channels, channels=channels,
                         **kwargs)
        self.convs = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU())

    def forward(self, inputs: List[Tensor],
                audio_feat: Optional[Tensor] = None,
                layout: Optional[ClipLayout] = None) -> Tensor:
        """Logits ``(N, K, h, w)`` at the fused map's size; per frame, so
        the audio and the layout are not used."""
        return self.cls_seg(self.convs(self._transform_inputs(inputs)))
