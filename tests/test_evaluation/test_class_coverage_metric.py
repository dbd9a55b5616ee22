import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample

import mmavs.evaluation  # noqa: F401


def frame(gt, predicted, **meta):
    sample = SegDataSample(metainfo=meta)
    sample.gt_sem_seg = PixelData(data=torch.tensor(gt)[None])
    if predicted is not None:
        sample.tda_classes = torch.tensor(predicted, dtype=torch.long)
    return sample.to_dict()


def test_hand_computed_coverage():
    metric = METRICS.build(dict(type='ClassCoverageMetric', num_classes=5))
    samples = [
        # GT {1, 3}; predicted {1, 2} (0 = background left out): 1/3.
        frame([[0, 1], [3, 255]], [0, 1, 2]),
        # GT {2}; predicted {2} twice, ∅ (= 5) ignored: 1.
        frame([[2, 2], [0, 0]], [2, 2, 5]),
        # GT {4}; nothing predicted: 0.
        frame([[4, 0], [0, 0]], []),
        # Both empty: empty_score 1.
        frame([[0, 0], [0, 255]], [0]),
        # Skipped: padding frame, frame without ground truth.
        frame([[1, 1], [1, 1]], [2], frame_valid=False),
        frame([[1, 1], [1, 1]], [2], annotated=False),
    ]
    metric.process({}, samples)
    out = metric.compute_metrics(metric.results)
    assert out['coverage'] == pytest.approx((1 / 3 + 1 + 0 + 1) / 4)
    assert out['coverage_frames'] == 4


def test_both_empty_frames_can_be_skipped_and_missing_field_raises():
    metric = METRICS.build(dict(type='ClassCoverageMetric', num_classes=3,
                                empty_score=None))
    metric.process({}, [frame([[0, 0]], []), frame([[1, 0]], [1, 2])])
    assert metric.compute_metrics(metric.results)['coverage'] == \
        pytest.approx(0.5)
    with pytest.raises(KeyError, match='tda_classes'):
        metric.process({}, [frame([[1, 0]], None)])
