"""AVSSMetric: both AVSS protocols on hand-computed frames, and independence
of batching, ranks and arrival order."""
import random

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmavs.evaluation import AVSSMetric, class_counts, summarize

C = 4


def sample(pred, gt, clip=0, frame=0, valid=True, annotated=True,
           subset='v2'):
    s = SegDataSample()
    s.pred_sem_seg = PixelData(data=torch.as_tensor(pred)[None])
    s.gt_sem_seg = PixelData(data=torch.as_tensor(gt)[None])
    s.set_metainfo(dict(clip_index=clip, frame_index=frame,
                        frame_valid=valid,
                        annotated=annotated, subset=subset))
    return s


def process(metric, samples):
    # As mmengine's Evaluator passes them: data samples as dicts.
    metric.process({}, [s.to_dict() for s in samples])


def evaluate(samples, batches=None, **kwargs):
    metric = AVSSMetric(num_classes=C, **kwargs)
    batches = batches or [samples]
    for batch in batches:
        process(metric, batch)
    return metric.compute_metrics(metric.results)


# Frame 1 (annotated): class 1 partly found, class 2 only predicted, class 3
# absent from both. Frame 2 (padding): background ground truth, one pixel
# predicted as class 1.
FRAME1 = dict(pred=[[0, 1], [2, 2]], gt=[[0, 1], [1, 1]])
FRAME2 = dict(pred=[[1, 0], [0, 0]], gt=[[0, 0], [0, 0]])


def hand_frames():
    return [sample(**FRAME1, frame=0),
            sample(**FRAME2, frame=1, valid=False, annotated=False)]


def test_class_counts_leave_ignored_pixels_out():
    counts = class_counts(np.array([[0, 1], [2, 3]]),
                          np.array([[0, 1], [255, 1]]), C)
    np.testing.assert_array_equal(counts, [[1, 1, 0, 0], [1, 1, 0, 1],
                                           [1, 2, 0, 0]])
    with pytest.raises(ValueError, match='class 4 outside'):
        class_counts(np.array([[4]]), np.array([[0]]), C)


def test_official_protocol_by_hand():
    m = evaluate(hand_frames())
    f_partial = 1.3 * 1 * (1 / 3) / (0.3 * 1 + 1 / 3)  # class 1, frame 1
    f_bg_pad = 1.3 * 1 * 0.75 / (0.3 * 1 + 0.75)  # class 0, frame 2
    # class 0: IoU 1 and 3/4; class 1: 1/3 and 0 (only predicted); class 2:
    # 0 (only predicted); class 3: never present -> 0 in the mean over C.
    iou = [(1 + 0.75) / 2, (1 / 3 + 0) / 2, 0, 0]
    fscore = [(1 + f_bg_pad) / 2, f_partial / 2, 0, 0]
    assert m['mIoU'] == pytest.approx(np.mean(iou))
    assert m['Fscore'] == pytest.approx(np.mean(fscore))
    assert m['mIoU_noBg'] == pytest.approx(np.mean(iou[1:]))
    assert m['Fscore_noBg'] == pytest.approx(np.mean(fscore[1:]))
    # Real annotated frames only: frame 1.
    assert m['mIoU_validonly'] == pytest.approx((1 + 1 / 3) / 4)
    assert m['Fscore_validonly'] == pytest.approx((1 + f_partial) / 4)


def test_dataset_level_protocol_by_hand():
    m = evaluate(hand_frames())
    # Annotated frames only (frame 1): TP / FP / FN per class
    # 0: 1/0/0, 1: 1/0/2, 2: 0/2/0, 3: 0/0/0 (drops out of F and FDR).
    assert m['mIoU_protoB'] == pytest.approx((1 + 1 / 3 + 0 + 0) / 4)
    assert m['mIoU_protoB_present'] == pytest.approx((1 + 1 / 3 + 0) / 3)
    f1 = 1.3 / (1.3 + 0.3 * 2)
    assert m['Fscore_protoB'] == pytest.approx((1 + f1 + 0) / 3)
    assert m['F1_protoB'] == pytest.approx((1 + 2 / 4 + 0) / 3)
    assert m['FDR_protoB'] == pytest.approx((0 + 0 + 1) / 3)
    assert m['mIoU_protoB_noBg'] == pytest.approx((1 / 3) / 3)
    assert m['Fscore_protoB_noBg'] == pytest.approx(f1 / 2)


def test_empty_and_unannotated_frames():
    ignored = sample(pred=[[1, 1], [1, 1]], gt=[[255] * 2] * 2, frame=2)
    unlabelled = sample(pred=[[2, 2], [2, 2]], gt=[[255] * 2] * 2, frame=3,
                        annotated=False)
    assert evaluate(hand_frames() + [ignored, unlabelled]) == \
        evaluate(hand_frames())
    # An all-background frame predicted right adds to class 0 only.
    empty = sample(pred=[[0] * 2] * 2, gt=[[0] * 2] * 2, frame=4)
    m = evaluate(hand_frames() + [empty])
    assert m['mIoU'] == pytest.approx((1 + 0.75 + 1) / 3 / 4 + 1 / 6 / 4)


def random_clips(num_clips=5, seed=0):
    rng = np.random.default_rng(seed)
    clips = []
    for c in range(num_clips):
        subset = ('v1s', 'v1m', 'v2')[c % 3]
        real = 10 if subset == 'v2' else 5
        frames = []
        for t in range(10):
            gt = rng.integers(0, C, (6, 6)) if t < real else np.zeros((6, 6))
            pred = np.where(rng.random((6, 6)) < 0.6, gt,
                            rng.integers(0, C, (6, 6)))
            frames.append(sample(pred, gt.astype(np.int64), c, t,
                                 valid=t < real, annotated=t < real,
                                 subset=subset))
        clips.append(frames)
    return clips


def test_independent_of_batching_ranks_and_order():
    clips = random_clips()
    flat = [s for clip in clips for s in clip]
    reference = evaluate(flat)
    for size in (1, 2, 3):
        batches = [[s for clip in clips[i:i + size] for s in clip]
                   for i in range(0, len(clips), size)]
        assert evaluate(flat, batches) == reference
    # Two ranks see shuffled clips; the distributed sampler pads rank 1
    # with a duplicate of clip 0; results arrive interleaved.
    ranks = [AVSSMetric(num_classes=C), AVSSMetric(num_classes=C)]
    for metric, order in zip(ranks, ([3, 0, 4], [1, 2, 0])):
        for index in order:
            process(metric, clips[index])
    results = ranks[0].results + ranks[1].results
    random.Random(0).shuffle(results)
    assert ranks[0].compute_metrics(results) == reference


def test_per_subset_and_source_partition():
    clips = random_clips()
    m = evaluate([s for clip in clips for s in clip])
    for prefix in ('v1s', 'v1m', 'v2', 'MS'):
        for key in ('mIoU', 'Fscore', 'mIoU_protoB', 'Fscore_protoB',
                    'FDR_protoB'):
            assert f'{prefix}/{key}' in m
    v2 = evaluate([s for clip in clips if clip[0].subset == 'v2'
                   for s in clip])
    assert m['v2/mIoU'] == pytest.approx(v2['mIoU'])
    assert m['v2/mIoU_protoB'] == pytest.approx(v2['mIoU_protoB'])
    # Random ground truth holds every class: all clips are multi-source.
    assert 'SS/mIoU' not in m and m['MS/mIoU'] == pytest.approx(m['mIoU'])


def test_single_source_rules():
    one = [[0, 1], [1, 0]]
    two = [[0, 1], [2, 2]]
    clips = [sample(one, one, clip=0, frame=t) for t in range(2)] + \
        [sample(one, one, clip=1, frame=0), sample(two, two, clip=1, frame=1)]
    m = evaluate(clips)
    # Clip 1 is multi-source by the video rule; each part is then perfect.
    assert m['SS/mIoU'] == pytest.approx(2 / 4)
    assert m['MS/mIoU'] == pytest.approx(3 / 4)
    # CAVP's frame rule: > 2 classes over > ms_min_pixels pixels each.
    m = evaluate(clips, subset_rule='cavp_frame', ms_min_pixels=0)
    assert m['MS/mIoU'] == pytest.approx(3 / 4)
    assert m['SS/mIoU'] == pytest.approx(2 / 4)
    assert 'MS/mIoU' not in evaluate(clips, subset_rule='cavp_frame')


def test_seg_logits_fallback_and_errors():
    s = sample(**FRAME1)
    logits = torch.nn.functional.one_hot(
        torch.as_tensor(FRAME1['pred']), C).permute(2, 0, 1).float()
    del s.pred_sem_seg
    s.seg_logits = PixelData(data=logits)
    assert evaluate([s]) == evaluate([sample(**FRAME1)])
    with pytest.raises(ValueError, match='no frame'):
        AVSSMetric().compute_metrics([])
    with pytest.raises(ValueError, match='subset_rule'):
        AVSSMetric(subset_rule='per_pixel')


def test_summarize_on_no_frames_is_zero():
    out = summarize(np.zeros((0, 3, C), dtype=np.int64))
    assert out['mIoU'] == 0 and out['mIoU_protoB'] == 0


def histc_reference(preds, gts, num_classes):
    """The official AVSS arithmetic as avss.md §5.1 describes it: labels + 1
    binned with torch.histc in float32, per-frame sums, then per class."""
    iou_sum = torch.zeros(num_classes)
    f_sum = torch.zeros(num_classes)
    count = torch.zeros(num_classes)
    for pred, gt in zip(preds, gts):
        pred = torch.as_tensor(pred).float() + 1
        gt = torch.as_tensor(gt).float() + 1
        inter = pred * (pred == gt).float()

        def hist(x):
            return torch.histc(x, bins=num_classes, min=1, max=num_classes)

        area_inter, area_pred, area_gt = hist(inter), hist(pred), hist(gt)
        union = area_pred + area_gt - area_inter
        iou_sum += area_inter / (2.220446049250313e-16 + union)
        count[union > 0] += 1
        precision, recall = area_inter / area_pred, area_inter / area_gt
        f = 1.3 * precision * recall / (0.3 * precision + recall)
        f[f != f] = 0
        f_sum += f
    miou, mf = iou_sum / count, f_sum / count
    miou[miou != miou] = 0
    mf[mf != mf] = 0
    return float(miou.mean()), float(mf.mean())


def test_matches_the_histc_arithmetic_of_the_reference():
    rng = np.random.default_rng(1)
    num_classes = 71
    preds, gts, samples = [], [], []
    for t in range(10):
        # A few classes per frame, as in AVSS; many classes never appear.
        classes = rng.choice(num_classes, size=4, replace=False)
        gt = rng.choice(classes, size=(16, 16))
        pred = np.where(rng.random((16, 16)) < 0.7, gt,
                        rng.choice(classes, size=(16, 16)))
        preds.append(pred)
        gts.append(gt)
        samples.append(sample(pred, gt, frame=t))
    metric = AVSSMetric()
    process(metric, samples)
    m = metric.compute_metrics(metric.results)
    miou, fscore = histc_reference(preds, gts, num_classes)
    assert m['mIoU'] == pytest.approx(miou, abs=1e-6)
    assert m['Fscore'] == pytest.approx(fscore, abs=1e-6)
