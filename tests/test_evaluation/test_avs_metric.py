"""Tests of the AVSBench metrics (``avsbench.md`` §5, protocol A).

Expected values come from hand computation on 4x4 frames and from an
independent, deliberately naive re-implementation of the AVSBench reference
test loop written below.
"""
import random

import numpy as np
import pytest
import torch

import mmavs  # noqa: F401  (registers AVSMetric)
from mmavs.evaluation.functional import f_curve, frame_statistics
from mmavs.evaluation.metrics.avs_metric import AVSMetric

THRESHOLDS = torch.linspace(0, 1 - 1e-10, 255)  # float32, as the reference


# ---------------------------------------------------------------------------
# Independent reference
# ---------------------------------------------------------------------------
def ref_frame_iou(prob, gt):
    """Reference IoU of one frame, float32."""
    pred = (prob > 0.5).float()
    gt = gt.float()
    if gt.sum() == 0:
        inter = ((1 - pred) * (1 - gt)).sum()
        union = torch.tensor(float(gt.numel()))
    else:
        inter = (pred * gt).sum()
        union = torch.max(pred, gt).sum()
    return inter / (union + 1e-7)


def ref_frame_f_curve(prob, gt):
    """F curve of one non-empty frame, one threshold at a time."""
    gt = gt.float()
    prec = torch.zeros(255)
    rec = torch.zeros(255)
    for i in range(255):
        pred = (prob >= THRESHOLDS[i]).float()
        tp = (pred * gt).sum()
        prec[i] = tp / (pred.sum() + 1e-20)
        rec[i] = tp / (gt.sum() + 1e-20)
    f = (1 + 0.3) * prec * rec / (0.3 * prec + rec)
    f[f != f] = 0
    return f


def reference_protocol_a(clips, clips_per_batch=4):
    """The AVSBench test loop: batches of 4 clips in CSV order.

    Args:
        clips: list of ``(probs, gts)``; each a list of T ``(H, W)`` tensors.
    """
    batch_ious, batch_fs = [], []
    for start in range(0, len(clips), clips_per_batch):
        frames = [(p, g) for probs, gts in clips[start:start + clips_per_batch]
                  for p, g in zip(probs, gts)]
        ious = torch.stack([ref_frame_iou(p, g) for p, g in frames])
        batch_ious.append((ious.sum() / len(frames)).item())
        avg_f, num = 0.0, 0
        score = None
        for p, g in frames:
            if g.float().mean() == 0:
                continue
            avg_f = avg_f + ref_frame_f_curve(p, g)
            num += 1
            score = avg_f / num
        batch_fs.append(0.0 if score is None else score.max().item())
    return float(np.mean(batch_ious)), float(np.mean(batch_fs))


def reference_batch_independent(clips):
    frames = [(p, g) for probs, gts in clips for p, g in zip(probs, gts)]
    fg_i = fg_u = bg_i = bg_u = 0
    tp = np.zeros(255)
    pp = np.zeros(255)
    gp = 0
    frame_best = []
    for p, g in frames:
        pred = (p > 0.5).numpy()
        gtb = g.numpy() > 0
        fg_i += np.sum(pred & gtb)
        fg_u += np.sum(pred | gtb)
        bg_i += np.sum(~pred & ~gtb)
        bg_u += np.sum(~pred | ~gtb)
        gp += gtb.sum()
        for i in range(255):
            positive = (p >= THRESHOLDS[i]).numpy()
            tp[i] += np.sum(positive & gtb)
            pp[i] += np.sum(positive)
        if gtb.any():
            frame_best.append(ref_frame_f_curve(p, g).max().item())
    prec = tp / (pp + 1e-20)
    rec = tp / gp
    with np.errstate(invalid='ignore'):
        f = 1.3 * prec * rec / (0.3 * prec + rec)
    f = np.nan_to_num(f)
    fg_iou = fg_i / fg_u
    bg_iou = bg_i / bg_u
    return dict(
        mIoU_protoB=(fg_iou + bg_iou) / 2,
        fgIoU_protoB=fg_iou,
        Fscore_protoB=f.max(),
        Fscore_framemean=float(np.mean(frame_best)))


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def sample_dict(prob, gt, clip_index, frame_index, annotated=True):
    """A data sample in the dict form mmengine's Evaluator gives metrics."""
    return dict(
        seg_logits=dict(data=prob[None]),
        gt_sem_seg=dict(data=gt[None].long()),
        clip_index=clip_index,
        frame_index=frame_index,
        annotated=annotated)


def clip_samples(clips, indices):
    return [
        sample_dict(p, g, c, t) for c in indices
        for t, (p, g) in enumerate(zip(*clips[c]))
    ]


def run_metric(clips, chunk, metric=None):
    metric = metric or AVSMetric()
    for start in range(0, len(clips), chunk):
        idx = range(start, min(start + chunk, len(clips)))
        metric.process(dict(inputs=None), clip_samples(clips, idx))
    return metric.compute_metrics(metric.results)


def make_clips(num_clips=9, num_frames=2, size=16, seed=0,
               empty=((2, 0), (2, 1), (5, 1), (8, 0), (8, 1))):
    """Random clips; ``empty`` lists (clip, frame) with empty ground truth.

    Clip 8 is entirely empty, so its batch (the third) scores F = 0. A few
    probabilities sit exactly on 0.5 and on threshold values.
    """
    gen = torch.Generator().manual_seed(seed)
    clips = []
    for c in range(num_clips):
        probs, gts = [], []
        for t in range(num_frames):
            gt = torch.rand(size, size, generator=gen) > 0.6
            if (c, t) in empty:
                gt[:] = False
            noise = torch.rand(size, size, generator=gen)
            prob = (0.45 * gt.float() + 0.55 * noise).clamp(0, 1)
            prob[0, 0] = 0.5
            prob[0, 1] = THRESHOLDS[100]
            prob[0, 2] = THRESHOLDS[-1]  # exactly 1.0
            probs.append(prob.float())
            gts.append(gt.long())
        clips.append((probs, gts))
    return clips


@pytest.fixture(scope='module')
def clips():
    return make_clips()


@pytest.fixture(scope='module')
def reference(clips):
    miou, fscore = reference_protocol_a(clips)
    return dict(mIoU=miou, Fscore=fscore)


# ---------------------------------------------------------------------------
# Hand-computed frames
# ---------------------------------------------------------------------------
def test_thresholds_as_documented():
    assert THRESHOLDS.dtype == torch.float32
    assert THRESHOLDS[0].item() == 0.0
    assert THRESHOLDS[-1].item() == 1.0
    assert THRESHOLDS[127].item() == 0.5


def _mask(*pixels):
    m = torch.zeros(4, 4, dtype=torch.long)
    for r, c in pixels:
        m[r, c] = 1
    return m


def test_iou_hand_computed():
    gt = _mask((0, 0), (0, 1), (1, 0), (1, 1))  # 4 px
    prob = torch.full((4, 4), 0.1)
    prob[0, 0] = prob[0, 1] = 0.9  # overlap 2
    prob[3, 3] = 0.7  # false positive
    stats = frame_statistics(prob, gt)
    assert stats['iou'] == pytest.approx(2 / 5, abs=1e-7)
    assert (stats['fg_inter'], stats['fg_union']) == (2, 5)
    assert (stats['bg_inter'], stats['bg_union']) == (11, 14)
    assert stats['gt_pos'] == 4
    # As a whole metric on one clip of one frame.
    metric = AVSMetric()
    metric.process(None, [sample_dict(prob, gt, 0, 0)])
    res = metric.compute_metrics(metric.results)
    assert res['mIoU'] == pytest.approx(0.4, abs=1e-7)
    assert res['fgIoU_protoB'] == pytest.approx(0.4)
    assert res['mIoU_protoB'] == pytest.approx((0.4 + 11 / 14) / 2)


def test_iou_of_empty_ground_truth_counts_background():
    gt = torch.zeros(4, 4, dtype=torch.long)
    prob = torch.full((4, 4), 0.2)
    prob[1, 1] = prob[2, 2] = prob[3, 0] = 0.8  # 3 false positives
    stats = frame_statistics(prob, gt)
    assert stats['iou'] == pytest.approx(13 / 16, abs=1e-7)
    assert stats['gt_pos'] == 0
    metric = AVSMetric()
    metric.process(None, [sample_dict(prob, gt, 0, 0)])
    res = metric.compute_metrics(metric.results)
    assert res['mIoU'] == pytest.approx(13 / 16, abs=1e-7)
    # All-empty batch: F is 0, not NaN.
    assert res['Fscore'] == 0.0
    assert res['Fscore_framemean'] == 0.0
    assert res['Fscore_protoB'] == 0.0


def test_prob_exactly_half_is_negative_for_iou():
    gt = _mask((0, 0), (0, 1))
    prob = torch.zeros(4, 4)
    prob[0, 0] = 0.5
    prob[0, 1] = 0.51
    stats = frame_statistics(prob, gt)
    assert stats['iou'] == pytest.approx(1 / 2, abs=1e-7)
    # ... but positive for the F-score at threshold index 127 (== 0.5).
    assert stats['tp'][127] == 2 and stats['pred_pos'][127] == 2
    assert stats['tp'][128] == 1 and stats['pred_pos'][128] == 1


def _hand_f(tp, pp, gp):
    prec, rec = tp / pp, tp / gp
    return 1.3 * prec * rec / (0.3 * prec + rec)


def test_fscore_hand_computed():
    gt = _mask((0, 0), (0, 1), (0, 2), (0, 3))
    prob = torch.full((4, 4), 0.1)
    prob[0] = torch.tensor([0.9, 0.7, 0.5, 0.2])
    prob[1, 0] = 0.8
    prob[1, 1] = 0.5
    stats = frame_statistics(prob, gt)
    curve = f_curve(stats['tp'], stats['pred_pos'], stats['gt_pos'])
    # t = 0: all 16 predicted, 4 true positives.
    assert curve[0].item() == pytest.approx(_hand_f(4, 16, 4), rel=1e-6)
    # t = 0.5 (index 127): {0.9, 0.7, 0.5, 0.8, 0.5} positive, 3 true.
    assert curve[127].item() == pytest.approx(_hand_f(3, 5, 4), rel=1e-6)
    # t = 1.0 (last): nothing predicted -> NaN -> 0.
    assert curve[-1].item() == 0.0
    # The best threshold lies in (0.1, 0.2]: 6 predicted, all 4 true.
    best = _hand_f(4, 6, 4)
    assert best == pytest.approx(13 / 18)
    assert curve.max().item() == pytest.approx(best, rel=1e-6)
    metric = AVSMetric()
    metric.process(None, [sample_dict(prob, gt, 0, 0)])
    res = metric.compute_metrics(metric.results)
    assert res['Fscore'] == pytest.approx(13 / 18, rel=1e-6)
    assert res['Fscore_framemean'] == pytest.approx(13 / 18, rel=1e-6)


@pytest.mark.parametrize('index', [1, 50, 127, 200, 253, 254])
def test_probability_on_a_threshold_counts_as_positive(index):
    t = THRESHOLDS[index].item()
    gt = _mask((2, 2))
    prob = torch.zeros(4, 4)
    prob[2, 2] = t  # the float32 threshold value itself
    prob[3, 3] = t
    stats = frame_statistics(prob, gt)
    assert stats['tp'][index] == 1 and stats['pred_pos'][index] == 2
    if index + 1 < 255:
        assert stats['tp'][index + 1] == 0
        assert stats['pred_pos'][index + 1] == 0


def test_empty_batch_scores_zero_fscore():
    # Five one-frame clips: batch 0 = clips 0-3 (one non-empty), batch 1 =
    # clip 4 (empty ground truth) -> Fscore = (F of batch 0 + 0) / 2.
    gt = _mask((0, 0), (0, 1), (0, 2), (0, 3))
    prob = torch.full((4, 4), 0.1)
    prob[0] = torch.tensor([0.9, 0.7, 0.5, 0.2])
    prob[1, 0] = 0.8
    prob[1, 1] = 0.5
    empty = torch.zeros(4, 4, dtype=torch.long)
    samples = [sample_dict(prob, gt, 0, 0)] + [
        sample_dict(torch.full((4, 4), 0.9), empty, c, 0) for c in range(1, 5)
    ]
    metric = AVSMetric()
    metric.process(None, samples)
    res = metric.compute_metrics(metric.results)
    assert res['Fscore'] == pytest.approx(13 / 18 / 2, rel=1e-6)
    # mIoU: batch 0 = (2/5 + 0 + 0 + 0) / 4 (frame 0 predicts {0.9, 0.7,
    # 0.8}: 2 of them hit the 4 gt pixels; empty frames fully predicted
    # positive have background IoU 0), batch 1 = 0.
    assert res['mIoU'] == pytest.approx(2 / 5 / 4 / 2, abs=1e-7)
    assert res['Fscore_framemean'] == pytest.approx(13 / 18, rel=1e-6)


# ---------------------------------------------------------------------------
# Against the reference loop
# ---------------------------------------------------------------------------
def test_reference_sanity(clips, reference):
    # The data set exercises an all-empty batch and non-trivial scores.
    assert 0 < reference['Fscore'] < 1
    assert 0 < reference['mIoU'] < 1
    _, f_first_two = reference_protocol_a(clips[:8])
    assert reference['Fscore'] == pytest.approx(f_first_two * 2 / 3)


@pytest.mark.parametrize('chunk', [1, 3, 4, 9])
def test_protocol_a_matches_reference_for_any_batch_size(
        clips, reference, chunk):
    res = run_metric(clips, chunk)
    assert res['mIoU'] == pytest.approx(reference['mIoU'], abs=1e-6)
    assert res['Fscore'] == pytest.approx(reference['Fscore'], abs=1e-6)


@pytest.mark.parametrize('chunk', [1, 3, 4])
def test_evaluate_single_process(clips, reference, chunk):
    metric = AVSMetric()
    for start in range(0, len(clips), chunk):
        idx = range(start, min(start + chunk, len(clips)))
        metric.process(None, clip_samples(clips, idx))
    res = metric.evaluate(len(clips))
    assert res['mIoU'] == pytest.approx(reference['mIoU'], abs=1e-6)
    assert res['Fscore'] == pytest.approx(reference['Fscore'], abs=1e-6)
    assert metric.results == []


@pytest.mark.parametrize('seed', [0, 1])
def test_two_ranks_shuffled(clips, reference, seed):
    ranks = [AVSMetric(), AVSMetric()]
    for r, metric in enumerate(ranks):
        own = list(range(r, len(clips), 2))
        for start in range(0, len(own), 2):
            metric.process(None, clip_samples(clips, own[start:start + 2]))
    results = ranks[0].results + ranks[1].results
    random.Random(seed).shuffle(results)
    res = AVSMetric().compute_metrics(results)
    assert res['mIoU'] == pytest.approx(reference['mIoU'], abs=1e-6)
    assert res['Fscore'] == pytest.approx(reference['Fscore'], abs=1e-6)


def test_clip_batch_size_other_than_four(clips):
    miou, fscore = reference_protocol_a(clips, clips_per_batch=2)
    res = run_metric(clips, 3, AVSMetric(clip_batch_size=2))
    assert res['mIoU'] == pytest.approx(miou, abs=1e-6)
    assert res['Fscore'] == pytest.approx(fscore, abs=1e-6)


def test_unannotated_frames_are_ignored(clips, reference):
    metric = AVSMetric()
    gen = torch.Generator().manual_seed(7)
    for c in range(len(clips)):
        samples = clip_samples(clips, [c])
        # A garbage, unannotated third frame in every clip.
        junk_gt = torch.ones(16, 16, dtype=torch.long)
        samples.insert(1, sample_dict(torch.rand(16, 16, generator=gen),
                                      junk_gt, c, 2, annotated=False))
        metric.process(None, samples)
    # A clip with no annotated frame at all adds no result.
    metric.process(None, [sample_dict(torch.rand(16, 16), junk_gt, 99, 0,
                                      annotated=False)])
    assert len(metric.results) == len(clips)
    res = metric.compute_metrics(metric.results)
    assert res['mIoU'] == pytest.approx(reference['mIoU'], abs=1e-6)
    assert res['Fscore'] == pytest.approx(reference['Fscore'], abs=1e-6)


def test_duplicate_results_do_not_change_anything(clips):
    metric = AVSMetric()
    for c in range(len(clips)):
        metric.process(None, clip_samples(clips, [c]))
    plain = metric.compute_metrics(metric.results)
    # Distributed samplers pad by repeating the first clips.
    padded = metric.results + metric.results[:3]
    assert metric.compute_metrics(padded) == plain
    # Clip frames split over two results also merge.
    split = AVSMetric()
    for c in range(len(clips)):
        for sample in clip_samples(clips, [c]):
            split.process(None, [sample])
    assert split.compute_metrics(split.results[::-1]) == pytest.approx(plain)


def test_batch_independent_keys(clips):
    res = run_metric(clips, 3)
    expected = reference_batch_independent(clips)
    for key, value in expected.items():
        assert res[key] == pytest.approx(value, abs=1e-6), key
    # Batch-independent keys do not depend on clip_batch_size.
    res2 = run_metric(clips, 3, AVSMetric(clip_batch_size=2))
    for key in expected:
        assert res2[key] == pytest.approx(res[key], abs=1e-12)


# ---------------------------------------------------------------------------
# Registry, Evaluator and object path
# ---------------------------------------------------------------------------
def test_build_from_registry(clips, reference):
    from mmseg.registry import METRICS
    metric = METRICS.build(dict(type='AVSMetric'))
    assert isinstance(metric, AVSMetric)
    assert metric.clip_batch_size == 4
    res = run_metric(clips, 4, metric)
    assert res['Fscore'] == pytest.approx(reference['Fscore'], abs=1e-6)


def test_evaluator_with_seg_data_samples(clips, reference):
    from mmengine.evaluator import Evaluator
    from mmengine.registry import DefaultScope
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    # A runner built from an mmseg config sets default_scope='mmseg'; the
    # Evaluator then finds AVSMetric in mmseg's METRICS registry.
    with DefaultScope.overwrite_default_scope('mmseg'):
        evaluator = Evaluator(dict(type='AVSMetric'))
    assert isinstance(evaluator.metrics[0], AVSMetric)
    for start in range(0, len(clips), 3):
        batch = []
        for c in range(start, min(start + 3, len(clips))):
            for t, (p, g) in enumerate(zip(*clips[c])):
                ds = SegDataSample(metainfo=dict(
                    clip_index=c, frame_index=t, annotated=True,
                    img_shape=(16, 16)))
                ds.seg_logits = PixelData(data=p[None])
                ds.gt_sem_seg = PixelData(data=g[None].long())
                batch.append(ds)
        evaluator.process(batch, dict(inputs=None))
    res = evaluator.evaluate(len(clips))
    assert res['mIoU'] == pytest.approx(reference['mIoU'], abs=1e-6)
    assert res['Fscore'] == pytest.approx(reference['Fscore'], abs=1e-6)
    assert set(res) >= {'mIoU', 'Fscore', 'mIoU_protoB', 'fgIoU_protoB',
                        'Fscore_protoB', 'Fscore_framemean'}


# ---------------------------------------------------------------------------
# Errors and fallbacks
# ---------------------------------------------------------------------------
def test_pred_sem_seg_fallback():
    gt = _mask((0, 0), (0, 1), (1, 0), (1, 1))
    pred = _mask((0, 0), (0, 1), (3, 3))
    sample = dict(pred_sem_seg=dict(data=pred[None]),
                  gt_sem_seg=dict(data=gt[None]), clip_index=0,
                  frame_index=0, annotated=True)
    metric = AVSMetric()
    metric.process(None, [sample])
    assert metric.compute_metrics(metric.results)['mIoU'] == pytest.approx(
        2 / 5, abs=1e-7)


def test_two_class_softmax_logits_equal_their_foreground_probability():
    """A K = 2 softmax model (CAVP on AVSBench-object) stores raw logits
    (2, H, W); the metric scores softmax(...)[1] as a sigmoid model's
    probability."""
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 6) * 3
    gt = (torch.rand(6, 6) > 0.5).long()
    prob = logits.softmax(0)[1]
    two = dict(sample_dict(prob, gt, 0, 0), seg_logits=dict(data=logits))
    results = []
    for sample in (sample_dict(prob, gt, 0, 0), two):
        metric = AVSMetric()
        metric.process(None, [sample])
        results.append(metric.compute_metrics(metric.results))
    assert results[0] == results[1]


def test_errors():
    with pytest.raises(ValueError):
        AVSMetric(clip_batch_size=0)
    metric = AVSMetric()
    with pytest.raises(KeyError):
        metric.process(None, [dict(gt_sem_seg=dict(data=torch.zeros(1, 4, 4)),
                                   clip_index=0, frame_index=0)])
    with pytest.raises(ValueError):
        metric.process(None, [sample_dict(torch.zeros(4, 4),
                                          torch.zeros(3, 3), 0, 0)])
    with pytest.raises(ValueError):
        metric.compute_metrics([])
