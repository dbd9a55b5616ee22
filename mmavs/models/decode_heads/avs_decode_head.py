"""Base class of AVS decode heads: binary masks, losses on annotated frames."""
from typing import Dict, List, Optional, Tuple

import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from torch import Tensor

from mmavs.structures import ClipLayout


class AVSDecodeHead(BaseDecodeHead):
    """A decode head that sees the audio features and predicts one logit map.

    Subclasses implement ``forward(inputs, audio_feat, layout)``. The
    segmentor calls :meth:`loss_and_logits` in training and ``forward`` then
    :meth:`predict_by_feat` at test time (shapes and the clip layout:
    ``docs/en/architecture.md``).

    Losses use only the frames the clip layout marks ``annotated`` (S4
    training clips are labelled on frame 1 only): selecting them here, rather
    than relying on ignore pixels, also avoids mmseg's binary cross-entropy
    failing on a batch in which every pixel is ignored.

    Defaults: ``num_classes=2``, ``out_channels=1``, ``threshold=0.5``,
    ``loss_decode`` sigmoid BCE averaged over non-ignored pixels.
    """

    def __init__(self,
                 loss_decode: dict = dict(
                     type='CrossEntropyLoss', use_sigmoid=True,
                     avg_non_ignore=True, loss_weight=1.0),
                 **kwargs) -> None:
        kwargs.setdefault('num_classes', 2)
        kwargs.setdefault('out_channels', 1)
        kwargs.setdefault('threshold', 0.5)
        kwargs.setdefault('dropout_ratio', 0.0)
        super().__init__(loss_decode=loss_decode, **kwargs)

    def forward(self, inputs: List[Tensor],
                audio_feat: Optional[Tensor] = None,
                layout: Optional[ClipLayout] = None) -> Tensor:
        """Return logits ``(N, K, H_out, W_out)``."""
        raise NotImplementedError

    def loss_and_logits(self, inputs: List[Tensor],
                        audio_feat: Optional[Tensor], layout: ClipLayout,
                        batch_data_samples: list
                        ) -> Tuple[Dict[str, Tensor], Tensor]:
        """The training path: decode losses and the logits they came from
        (the segmentor's auxiliary losses reuse the logits)."""
        logits = self(inputs, audio_feat, layout)
        return self.loss_by_feat(logits, batch_data_samples, layout), logits

    def forward_samples(self, inputs: List[Tensor], audio_feat: Tensor,
                        layout: ClipLayout, num_samples: int) -> Tensor:
        """Logits ``(S·N, K, h, w)`` of S latent samples, copy-major.

        Each level of ``inputs`` is ``(N, ...)``, shared by every sample (a
        level the latent does not reach), or ``(S·N, ...)``, sample ``s``
        of frame ``i`` at row ``s·N + i`` (``docs/en/architecture.md``).
        This default decodes one sample's N maps at a time (on the CPU
        that was about 10 % faster than one pass over S·N stacked maps,
        whose large activations fall out of cache, and it bounds the
        memory); heads that can share work between samples override it.
        """
        frames = self._check_sample_levels(inputs, layout, num_samples)
        if num_samples == 1:
            return self(inputs, audio_feat, layout)
        return torch.cat([
            self([x if x.shape[0] == frames else
                  x[s * frames:(s + 1) * frames] for x in inputs],
                 audio_feat, layout) for s in range(num_samples)
        ])

    @staticmethod
    def _check_sample_levels(inputs: List[Tensor], layout: ClipLayout,
                             num_samples: int) -> int:
        """N, after checking every level has N or S·N rows."""
        frames = len(layout)
        for x in inputs:
            if x.shape[0] not in (frames, frames * num_samples):
                raise ValueError(
                    f'a level of {x.shape[0]} maps for {frames} frames and '
                    f'{num_samples} samples: expected N or S·N')
        return frames

    def aux_maps(self, inputs: List[Tensor]) -> List[Tensor]:
        """The fused maps the segmentor's auxiliary losses (e.g. the MS3
        matching loss) receive: ``inputs`` themselves, unless a head
        reproduces a reference that rewrites them (:class:`AVSFPNHead`)."""
        return list(inputs)

    def loss_by_feat(self, seg_logits: Tensor, batch_data_samples: list,
                     layout: Optional[ClipLayout] = None
                     ) -> Dict[str, Tensor]:
        """Decode losses over the annotated frames.

        Args:
            seg_logits: ``(N, K, h, w)`` logits.
            batch_data_samples: The N frame samples with ``gt_sem_seg``.
            layout: The clip layout (its ``annotated`` flags); default: read
                from the samples' metainfo.
        """
        return self.annotated_losses(seg_logits, batch_data_samples,
                                     self._loss_modules(), layout)

    def annotated_losses(self, seg_logits: Tensor, batch_data_samples: list,
                         loss_modules: list,
                         layout: Optional[ClipLayout] = None
                         ) -> Dict[str, Tensor]:
        """Apply ``loss_modules`` to the maps of the annotated frames,
        resized to the label size; each loss under its ``loss_name``."""
        if layout is None:
            layout = ClipLayout.from_data_samples(
                batch_data_samples, [1] * len(batch_data_samples))
        keep = layout.annotated.nonzero()[:, 0].tolist()
        losses: Dict[str, Tensor] = {}
        if not keep:
            # Keep every parameter in the graph (DDP) with a zero loss.
            for loss in loss_modules:
                losses[loss.loss_name] = seg_logits.sum() * 0
            return losses
        labels = torch.stack([
            batch_data_samples[i].gt_sem_seg.data for i in keep
        ]).squeeze(1)
        logits = resize(seg_logits[keep], size=labels.shape[-2:],
                        mode='bilinear', align_corners=self.align_corners)
        for loss in loss_modules:
            value = loss(logits, labels, ignore_index=self.ignore_index)
            losses[loss.loss_name] = losses.get(loss.loss_name, 0) + value
        return losses

    def _loss_modules(self) -> list:
        if isinstance(self.loss_decode, torch.nn.ModuleList):
            return list(self.loss_decode)
        return [self.loss_decode]

    def pop_frame_fields(self) -> Dict[str, list]:
        """Per-frame fields the last eval ``forward`` recorded besides the
        logits, ``{name: N values}``, which the segmentor sets on the
        predictions (e.g. CPM's ``tda_classes``); none by default."""
        return {}

    def predict_by_feat(self, seg_logits: Tensor,
                        batch_img_metas: List[dict]) -> Tensor:
        """Resize logits to the network input size."""
        return resize(seg_logits, size=batch_img_metas[0]['img_shape'],
                      mode='bilinear', align_corners=self.align_corners)
