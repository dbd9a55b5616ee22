"""The dataset-level metric of the VPO tables (``cavp.md`` §8)."""
from typing import Dict, List, Optional

import numpy as np
from mmengine.logging import print_log
from mmseg.registry import METRICS

from mmavs.evaluation.semantic import summarize

from .avss_metric import AVSSMetric


@METRICS.register_module()
class VPOMetric(AVSSMetric):
    """mIoU, F_beta and FDR of VPO: the dataset-level protocol ("sem-B",
    ``avss.md`` §5.2) over all annotated images, at the resolution the
    predictions are scored at (VPO: original, test batch 1).

    Per class over the split: IoU_c = sum I / (sum U + eps), ``mIoU_protoB``
    = mean over **all** ``num_classes`` (22, background included; classes
    absent from the split count 0); ``Fscore_protoB`` (beta^2 = 0.3),
    ``F1_protoB`` and ``FDR_protoB`` = nan-means over classes of the
    accumulated confusion counts. Also ``mIoU_protoB_present`` (mean over
    classes present in prediction or ground truth) and the ``_noBg``
    variants (index 0 left out). The keys mean what they mean for
    :class:`AVSSMetric`; the per-frame AVSBench keys (``mIoU``, ``Fscore``)
    are not computed, because no VPO table uses them.

    Samples are stored with their ``clip_index`` (the image) as in
    :class:`AVSSMetric`, so batch size, workers and ranks do not matter.

    Args:
        num_classes: 22 (21 VPO classes + background).
        ignore_index: Ground-truth value left out (crop padding, unknown
            COCO ids).
        collect_device, prefix: As for mmengine metrics.
    """

    def __init__(self,
                 num_classes: int = 22,
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(num_classes=num_classes, ignore_index=ignore_index,
                         collect_device=collect_device, prefix=prefix)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        clips = self._merge(results)
        frames = [f for clip in clips
                  for _, f in sorted(clip['frames'].items())
                  if f['annotated']]
        if not frames:
            raise ValueError('VPOMetric received no image with ground truth')
        counts = np.stack([f['counts'] for f in frames])
        metrics = summarize(counts, protocols=('B', ))
        no_bg = summarize(counts, np.arange(1, self.num_classes),
                          protocols=('B', ))
        metrics.update(mIoU_protoB_noBg=no_bg['mIoU_protoB'],
                       Fscore_protoB_noBg=no_bg['Fscore_protoB'])
        print_log(
            f'VPO dataset-level metrics over {len(frames)} images, '
            f'{self.num_classes} classes: ' +
            ', '.join(f'{k}={v:.4f}' for k, v in metrics.items()),
            logger='current')
        return metrics
