"""The AVSBench metrics as an mmengine metric."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import METRICS

from mmavs.evaluation.functional import (NUM_THRESHOLDS, batch_independent,
                                         frame_statistics, protocol_a)


@METRICS.register_module()
class AVSMetric(BaseMetric):
    """mIoU and F-score of AVSBench, exactly as the reference computes them.

    Protocol A (keys ``mIoU``, ``Fscore``: the numbers papers compare) depends
    on the reference's test batches of ``clip_batch_size`` clips in CSV order.
    This metric therefore keeps per-frame statistics with each frame's clip
    index and rebuilds those batches in :meth:`compute_metrics`, so the result
    is the same for any test batch size, worker count or number of processes.

    Batch-independent variants are reported under names that cannot be taken
    for protocol A: ``mIoU_protoB``, ``fgIoU_protoB``, ``Fscore_protoB``
    (accumulated over the split) and ``Fscore_framemean``.

    Call graph::

        process(data_batch, data_samples)          # per test iteration
          └─ frame_statistics(prob, gt)            # per annotated frame
        compute_metrics(results)                   # after collecting ranks
          ├─ _regroup → reference 4-clip batches
          ├─ protocol_a(batches)
          └─ batch_independent(frames)

    Each data sample must carry ``seg_logits`` (sigmoid probabilities, as
    mmseg stores them for ``out_channels=1``; a two-channel softmax model's
    raw logits ``(2, H, W)`` are turned into the class-1 probability) or,
    failing that,
    ``pred_sem_seg``; ``gt_sem_seg``; and metainfo ``clip_index``,
    ``frame_index`` and ``annotated``. Frames with ``annotated=False`` are
    skipped.

    Args:
        clip_batch_size: Clips per reference test batch (4 in AVSBench).
        num_thresholds: Thresholds of the F-score curve (255).
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Optional prefix of the metric names.
    """

    # Empty: keys stay 'mIoU', 'Fscore', ... as papers and save_best use them.
    default_prefix: Optional[str] = ''

    def __init__(self,
                 clip_batch_size: int = 4,
                 num_thresholds: int = NUM_THRESHOLDS,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if clip_batch_size < 1:
            raise ValueError('clip_batch_size must be positive')
        self.clip_batch_size = clip_batch_size
        self.num_thresholds = num_thresholds

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store the statistics of each annotated frame, grouped by clip."""
        clips: Dict[int, Dict[int, dict]] = defaultdict(dict)
        for sample in data_samples:
            if not sample.get('annotated', True):
                continue
            prob = self._probabilities(sample)
            gt = sample['gt_sem_seg']['data'].squeeze(0)
            clips[int(sample['clip_index'])][int(sample['frame_index'])] = \
                frame_statistics(prob, gt, self.num_thresholds)
        # One result per clip keeps len(results) equal to the dataset length,
        # which mmengine's cross-rank collection relies on.
        for clip_index, frames in clips.items():
            self.results.append(dict(clip_index=clip_index, frames=frames))

    @staticmethod
    def _probabilities(sample: dict):
        if 'seg_logits' in sample:
            data = sample['seg_logits']['data']
            if data.dim() == 3 and data.shape[0] == 2:
                # A two-class softmax model (CAVP on AVSBench-object):
                # mmseg stores its raw logits; the foreground probability.
                return data.float().softmax(0)[1]
            return data.squeeze(0)
        if 'pred_sem_seg' in sample:
            return sample['pred_sem_seg']['data'].squeeze(0).float()
        raise KeyError('AVSMetric needs "seg_logits" or "pred_sem_seg" in each '
                       'data sample')

    def _regroup(self, results: List[dict]) -> List[List[dict]]:
        """Frames grouped into the reference test batches, duplicates dropped."""
        clips: Dict[int, Dict[int, dict]] = defaultdict(dict)
        for result in results:
            clips[result['clip_index']].update(result['frames'])
        order = sorted(clips)
        batches = []
        for start in range(0, len(order), self.clip_batch_size):
            batch = [clips[c][t] for c in order[start:start +
                                                self.clip_batch_size]
                     for t in sorted(clips[c])]
            batches.append(batch)
        return batches

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        batches = self._regroup(results)
        if not batches:
            raise ValueError('AVSMetric received no annotated frame')
        metrics = protocol_a(batches)
        metrics.update(
            batch_independent([f for batch in batches for f in batch]))
        print_log(
            'AVS metrics (protocol A: mIoU, Fscore; batch-independent: '
            '*_protoB, Fscore_framemean): ' +
            ', '.join(f'{k}={v:.4f}' for k, v in metrics.items()),
            logger='current')
        return metrics
