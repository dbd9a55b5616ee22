"""VPOMetric: the dataset-level protocol of the VPO tables (cavp.md §8) on
hand-computed images: 22 classes incl. background in the mIoU, F_beta with
beta^2 = 0.3 and FDR from the accumulated confusion counts."""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample

import mmavs  # noqa: F401
from mmavs.evaluation import VPOMetric

EPS = 2.220446049250313e-16


def sample(pred, gt, index):
    s = SegDataSample()
    s.pred_sem_seg = PixelData(data=torch.as_tensor(pred)[None])
    s.gt_sem_seg = PixelData(data=torch.as_tensor(gt)[None])
    # What PackAVSInputs writes for a VPO image (T = 1); no subset.
    s.set_metainfo(dict(clip_index=index, frame_index=0, frame_valid=True,
                        annotated=True, num_frames=1))
    return s.to_dict()


# Image 0: 2x3, gt background + class 5 (car); the car is half found and
# one background pixel is predicted class 1. Image 1: class 9 (dog) found
# entirely, one ignored pixel.
PRED0, GT0 = [[0, 5, 1], [0, 0, 0]], [[0, 5, 5], [0, 0, 0]]
PRED1, GT1 = [[9, 9, 0], [0, 0, 3]], [[9, 9, 0], [0, 0, 255]]


def by_hand():
    # Summed over the two images, per class: (TP, FP, FN).
    counts = {0: (7, 0, 0), 5: (1, 0, 1), 1: (0, 1, 0), 9: (2, 0, 0)}
    iou = np.zeros(22)
    fscore, fdr = [], []
    for c, (tp, fp, fn) in counts.items():
        iou[c] = tp / (tp + fp + fn + EPS)
        fscore.append(1.3 * tp / (1.3 * tp + 0.3 * fn + fp))
        fdr.append(fp / (fp + tp))
    return iou.mean(), np.mean(fscore), np.mean(fdr)


@pytest.mark.parametrize('batches', [[[0, 1]], [[1], [0]], [[0], [1], [0]]])
def test_dataset_level_scores_by_hand(batches):
    metric = METRICS.build(dict(type='VPOMetric'))
    samples = [sample(PRED0, GT0, 0), sample(PRED1, GT1, 1)]
    for batch in batches:
        metric.process({}, [samples[i] for i in batch])
    scores = metric.compute_metrics(metric.results)
    miou, fscore, fdr = by_hand()
    assert scores['mIoU_protoB'] == pytest.approx(miou)
    assert scores['Fscore_protoB'] == pytest.approx(fscore)
    assert scores['FDR_protoB'] == pytest.approx(fdr)
    # 22 classes in the mean: 4 present, the others count 0.
    present = (1 + 1 / 2 + 0 + 1) / 4
    assert scores['mIoU_protoB_present'] == pytest.approx(present)
    assert scores['mIoU_protoB'] == pytest.approx(present * 4 / 22)
    assert 'mIoU' not in scores and 'Fscore' not in scores
    assert {'F1_protoB', 'mIoU_protoB_noBg', 'Fscore_protoB_noBg'} <= \
        set(scores)


def test_no_image_is_an_error():
    metric = VPOMetric()
    with pytest.raises(ValueError, match='no image with ground truth'):
        metric.compute_metrics([])
