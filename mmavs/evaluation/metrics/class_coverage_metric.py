"""Classification coverage of CPM's Fig. 3b (``cpm.md`` §9)."""
from typing import Dict, List, Optional, Sequence, Set

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmseg.registry import METRICS


def _as_ids(value) -> np.ndarray:
    """A tensor / array / list (or a dict with ``'data'``) → 1-D int ids."""
    if isinstance(value, dict):
        value = value['data']
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.int64).reshape(-1)


@METRICS.register_module()
class ClassCoverageMetric(BaseMetric):
    """Mean per-frame Jaccard between predicted and true foreground classes.

    Per frame: ``P`` = the classes in the data sample field ``tda_classes``
    (the argmax labels ≠ ∅ of the audio decoder's (TD-A) outputs through the
    class head, written by the CPM head), ``G`` = the classes of
    ``gt_sem_seg``; background (0), ``ignore_index`` and ids outside
    ``[0, num_classes)`` (∅ = ``num_classes``) are left out of both.
    Score ``|P ∩ G| / |P ∪ G|``; a frame where both are empty scores
    ``empty_score`` (1.0: predicting no sounding class for a silent frame is
    right; None leaves such frames out). Frames that are padding or have no
    ground truth (``frame_valid`` / ``annotated`` False, or no
    ``gt_sem_seg``) are skipped.

    Key ``coverage`` (a fraction in ``[0, 1]``; the paper's 58.58 is a
    percentage), and ``coverage_frames``, the number of frames scored.

    Args:
        num_classes: ``K``, classes including background.
        ignore_index: Ground-truth label of ignored pixels.
        empty_score: Score of a frame with neither predicted nor true
            foreground class, or None to skip it.
        collect_device / prefix: as for every mmengine metric.
    """

    default_prefix: Optional[str] = None

    def __init__(self,
                 num_classes: int,
                 ignore_index: int = 255,
                 empty_score: Optional[float] = 1.0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.empty_score = empty_score

    def _foreground(self, ids: np.ndarray) -> Set[int]:
        keep = (ids > 0) & (ids < self.num_classes) & (ids !=
                                                       self.ignore_index)
        return set(np.unique(ids[keep]).tolist())

    def frame_score(self, predicted: Set[int],
                    truth: Set[int]) -> Optional[float]:
        """Jaccard of two foreground sets (``empty_score`` if both empty)."""
        union = predicted | truth
        if not union:
            return self.empty_score
        return len(predicted & truth) / len(union)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if not bool(sample.get('frame_valid', True)) or not bool(
                    sample.get('annotated', True)):
                continue
            if 'gt_sem_seg' not in sample:
                continue
            if 'tda_classes' not in sample:
                raise KeyError(
                    'ClassCoverageMetric needs the data sample field '
                    '"tda_classes" (the classes predicted after the audio '
                    'decoder); this model does not write it')
            truth = self._foreground(_as_ids(sample['gt_sem_seg']['data']))
            predicted = self._foreground(_as_ids(sample['tda_classes']))
            score = self.frame_score(predicted, truth)
            if score is not None:
                self.results.append(score)

    def compute_metrics(self, results: List[float]) -> Dict[str, float]:
        return dict(coverage=float(np.mean(results)) if results else 0.0,
                    coverage_frames=float(len(results)))
