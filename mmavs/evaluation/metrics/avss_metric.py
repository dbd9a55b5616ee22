"""The AVSBench-Semantic metrics as an mmengine metric."""
import logging
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import METRICS

from mmavs.evaluation.semantic import class_counts, summarize

SUBSETS = ('v1s', 'v1m', 'v2')
SUBSET_RULES = ('video', 'cavp_frame')
# CPM's test split: 1,278 single-source and 276 multi-source videos.
CPM_TEST_SPLIT = (1278, 276)


@METRICS.register_module()
class AVSSMetric(BaseMetric):
    """mIoU and F-score of AVSS under both published protocols.

    Keys (``docs/en/metrics.md`` gives the formulas):

    - official AVSBench protocol (per frame, then per class, then the mean
      over all ``num_classes`` classes; every frame of the padded 10-frame
      clips is scored, padded ones with an all-background ground truth):
      ``mIoU``, ``Fscore``; ``mIoU_noBg``, ``Fscore_noBg`` (index 0 left
      out of the class mean); ``mIoU_validonly``, ``Fscore_validonly``
      (real annotated frames only);
    - dataset-level protocol of CAVP / CPM (annotated frames, counts
      accumulated over the split): ``mIoU_protoB``, ``Fscore_protoB``,
      ``FDR_protoB``, ``F1_protoB``, ``mIoU_protoB_present``,
      ``mIoU_protoB_noBg``, ``Fscore_protoB_noBg``;
    - per subset ``v1s/``, ``v1m/``, ``v2/`` and for the single- / multi-
      source partition ``SS/``, ``MS/``: ``mIoU``, ``Fscore``,
      ``mIoU_protoB``, ``Fscore_protoB``, ``FDR_protoB``.

    Each frame's ``(3, C)`` class counts are stored with its clip index and
    frame number, one result per clip; :meth:`compute_metrics` drops
    duplicates and sorts, so the result does not depend on batch size,
    worker count, ranks or arrival order.

    Each data sample needs ``pred_sem_seg`` (or ``seg_logits``, argmax over
    classes), ``gt_sem_seg`` (0..C-1, ``ignore_index``) and the metainfo of
    ``PackAVSInputs``: ``clip_index``, ``frame_index``, ``frame_valid``, ``annotated``, ``subset``. Real
    frames without ground truth (``annotated`` False, ``frame_valid`` True)
    are skipped.

    Args:
        num_classes: C (71).
        ignore_index: Ground-truth value left out of every count.
        subset_rule: Single- / multi-source partition. ``'video'``: a clip
            is multi-source when its annotated frames hold at least 2
            distinct foreground classes. ``'cavp_frame'``: a frame is
            multi-source when more than 2 classes (background included) cover
            more than ``ms_min_pixels`` pixels each (CAVP's code).
        ms_min_pixels: The pixel threshold of ``'cavp_frame'``.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Optional prefix of the metric names.
    """

    default_prefix: Optional[str] = ''

    def __init__(self,
                 num_classes: int = 71,
                 ignore_index: int = 255,
                 subset_rule: str = 'video',
                 ms_min_pixels: int = 100,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if subset_rule not in SUBSET_RULES:
            raise ValueError(f'subset_rule must be one of {SUBSET_RULES}')
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.subset_rule = subset_rule
        self.ms_min_pixels = ms_min_pixels

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store the class counts of each scored frame, grouped by clip."""
        clips: Dict[int, dict] = {}
        for sample in data_samples:
            valid = bool(sample.get('frame_valid', True))
            annotated = bool(sample.get('annotated', True))
            if valid and not annotated:
                continue  # a real frame without ground truth
            clip_index = int(sample['clip_index'])
            frame = int(sample['frame_index'])
            gt = sample['gt_sem_seg']['data'].squeeze(0).cpu().numpy()
            counts = class_counts(self._prediction(sample), gt,
                                  self.num_classes, self.ignore_index)
            clip = clips.setdefault(clip_index, dict(
                clip_index=clip_index, subset=sample.get('subset', ''),
                frames={}))
            clip['frames'][frame] = dict(valid=valid, annotated=annotated,
                                         counts=counts)
        # One result per clip keeps len(results) equal to the dataset length,
        # which mmengine's cross-rank collection relies on.
        self.results.extend(clips.values())

    @staticmethod
    def _prediction(sample: dict) -> np.ndarray:
        if 'pred_sem_seg' in sample:
            return sample['pred_sem_seg']['data'].squeeze(0).cpu().numpy()
        if 'seg_logits' in sample:
            return sample['seg_logits']['data'].argmax(0).cpu().numpy()
        raise KeyError('AVSSMetric needs "pred_sem_seg" or "seg_logits" in '
                       'each data sample')

    @staticmethod
    def _merge(results: List[dict]) -> List[dict]:
        """Clips sorted by index, each frame once (duplicates dropped)."""
        clips: Dict[int, dict] = {}
        for result in results:
            clip = clips.setdefault(result['clip_index'], dict(
                result, frames={}))
            clip['frames'].update(result['frames'])
        return [clips[i] for i in sorted(clips)]

    def _multi_source(self, clips: List[dict]) -> Dict[Tuple[int, int], bool]:
        """``{(clip, frame): is multi-source}`` under ``subset_rule``."""
        out = {}
        for clip in clips:
            frames = clip['frames']
            if self.subset_rule == 'video':
                present = set()
                for frame in frames.values():
                    if frame['annotated']:
                        present |= set(np.flatnonzero(
                            frame['counts'][2][1:] > 0).tolist())
                clip_ms = len(present) >= 2
                out.update({(clip['clip_index'], t): clip_ms for t in frames})
            else:
                for t, frame in frames.items():
                    big = (frame['counts'][2] > self.ms_min_pixels).sum()
                    out[(clip['clip_index'], t)] = bool(big > 2)
        return out

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        clips = self._merge(results)
        if not clips:
            raise ValueError('AVSSMetric received no frame with ground truth')
        multi = self._multi_source(clips)
        rows = [(clip['clip_index'], t, clip['subset'], f)
                for clip in clips for t, f in sorted(clip['frames'].items())]
        counts = np.stack([f['counts'] for *_, f in rows])
        annotated = np.array([f['annotated'] for *_, f in rows])
        subset = np.array([s for _, _, s, _ in rows])
        ms = np.array([multi[(c, t)] for c, t, _, _ in rows])
        no_bg = np.arange(1, self.num_classes)

        def scores(mask: np.ndarray, classes=None) -> Dict[str, float]:
            # Protocol A scores every stored frame (padded ones included);
            # protocol B the annotated ones only.
            out = summarize(counts[mask], classes, protocols=('A', ))
            out.update(summarize(counts[mask & annotated], classes,
                                 protocols=('B', )))
            return out

        everything = np.ones(len(rows), dtype=bool)
        metrics = scores(everything)
        plain_no_bg = scores(everything, no_bg)
        metrics.update(
            mIoU_noBg=plain_no_bg['mIoU'],
            Fscore_noBg=plain_no_bg['Fscore'],
            mIoU_protoB_noBg=plain_no_bg['mIoU_protoB'],
            Fscore_protoB_noBg=plain_no_bg['Fscore_protoB'])
        valid_only = summarize(counts[annotated], protocols=('A', ))
        metrics.update(mIoU_validonly=valid_only['mIoU'],
                       Fscore_validonly=valid_only['Fscore'])
        short = ('mIoU', 'Fscore', 'mIoU_protoB', 'Fscore_protoB',
                 'FDR_protoB')
        groups = [(name, subset == name) for name in SUBSETS]
        groups += [('SS', ~ms), ('MS', ms)]
        for name, mask in groups:
            if mask.any():
                part = scores(mask)
                metrics.update({f'{name}/{k}': part[k] for k in short})
        self._log_partition(clips, multi)
        print_log(
            'AVSS metrics (official AVSBench protocol: mIoU, Fscore; '
            'dataset-level CAVP/CPM protocol: *_protoB): ' +
            ', '.join(f'{k}={v:.4f}' for k, v in metrics.items()),
            logger='current')
        return metrics

    def _log_partition(self, clips: List[dict],
                       multi: Dict[Tuple[int, int], bool]) -> None:
        if self.subset_rule == 'video':
            ms_clips = sum(multi[(c['clip_index'], next(iter(c['frames'])))]
                           for c in clips)
            counts = (len(clips) - ms_clips, ms_clips)
            print_log(f'AVSS single-/multi-source clips: {counts[0]} / '
                      f'{counts[1]}', logger='current')
            # Only the full test split can be compared with CPM's partition.
            if sum(counts) == sum(CPM_TEST_SPLIT) and \
                    counts != CPM_TEST_SPLIT:
                print_log(
                    f'the single-/multi-source partition {counts} differs '
                    f'from CPM\'s {CPM_TEST_SPLIT}: SS/MS numbers are not '
                    'comparable with CPM Table 2', logger='current',
                    level=logging.WARNING)
        else:
            ms_frames = sum(multi.values())
            print_log(f'AVSS single-/multi-source frames (CAVP rule): '
                      f'{len(multi) - ms_frames} / {ms_frames}',
                      logger='current')

