"""Per-frame statistics of the AVSBench metrics, and their aggregation.

The arithmetic mirrors the AVSBench reference evaluation (``avsbench.md`` §5) in
float32, so that protocol A matches published numbers.
"""
from typing import Dict, List, Sequence

import numpy as np
import torch

NUM_THRESHOLDS = 255
BETA2 = 0.3
IOU_EPS = 1e-7
PR_EPS = 1e-20


def f_thresholds(num: int = NUM_THRESHOLDS) -> torch.Tensor:
    """The reference's thresholds: ``linspace(0, 1 - 1e-10, num)`` (float32)."""
    return torch.linspace(0, 1 - 1e-10, num)


def count_at_least(values: torch.Tensor,
                   thresholds: torch.Tensor) -> torch.Tensor:
    """``[#(values >= t) for t in thresholds]`` without a T×N comparison."""
    ordered = torch.sort(values.flatten()).values
    return ordered.numel() - torch.searchsorted(ordered, thresholds, right=False)


def frame_statistics(prob: torch.Tensor, gt: torch.Tensor,
                     num_thresholds: int = NUM_THRESHOLDS) -> Dict:
    """Statistics of one frame for every AVS metric variant.

    Args:
        prob: ``(H, W)`` foreground probabilities (sigmoid of the logits).
        gt: ``(H, W)`` binary ground truth.

    Returns:
        dict: ``iou`` (protocol-A frame IoU; background IoU when the ground
        truth is empty), ``tp`` / ``pred_pos`` (``(num_thresholds,)`` counts
        of true and predicted positives at each threshold), ``gt_pos``, and
        ``fg_inter``, ``fg_union``, ``bg_inter``, ``bg_union`` (pixel counts
        at the 0.5 threshold, for dataset-level IoU).
    """
    prob = prob.detach().float().cpu()
    gt = (gt.detach().cpu() > 0)
    if prob.shape != gt.shape:
        raise ValueError(f'prediction shape {tuple(prob.shape)} differs from '
                         f'ground truth shape {tuple(gt.shape)}')
    pred = prob > 0.5
    fg_inter = int((pred & gt).sum())
    fg_union = int((pred | gt).sum())
    bg_inter = int((~pred & ~gt).sum())
    bg_union = int((~pred | ~gt).sum())
    gt_pos = int(gt.sum())
    if gt_pos == 0:
        inter, union = bg_inter, gt.numel()
    else:
        inter, union = fg_inter, fg_union
    iou = torch.tensor(inter, dtype=torch.float32) / torch.tensor(
        union + IOU_EPS, dtype=torch.float32)
    thresholds = f_thresholds(num_thresholds)
    return dict(
        iou=float(iou),
        tp=count_at_least(prob[gt], thresholds).numpy(),
        pred_pos=count_at_least(prob, thresholds).numpy(),
        gt_pos=gt_pos,
        fg_inter=fg_inter,
        fg_union=fg_union,
        bg_inter=bg_inter,
        bg_union=bg_union)


def f_curve(tp: np.ndarray, pred_pos: np.ndarray, gt_pos) -> torch.Tensor:
    """F-beta (beta² = 0.3) at each threshold, NaN set to 0, in float32."""
    tp = torch.as_tensor(np.asarray(tp), dtype=torch.float32)
    precision = tp / (torch.as_tensor(np.asarray(pred_pos),
                                      dtype=torch.float32) + PR_EPS)
    recall = tp / (torch.as_tensor(np.asarray(gt_pos),
                                   dtype=torch.float32) + PR_EPS)
    f = (1 + BETA2) * precision * recall / (BETA2 * precision + recall)
    f[f != f] = 0
    return f


def protocol_a(batches: Sequence[List[Dict]]) -> Dict[str, float]:
    """AVSBench protocol A over reference test batches.

    Args:
        batches: Each item is the frames (in clip, frame order) of one test
            batch of the reference loop.

    Returns:
        dict: ``mIoU``: mean over batches of the batch's mean frame IoU;
        ``Fscore``: mean over batches of max over thresholds of the mean F
        curve of the batch's non-empty frames (0 for an all-empty batch).
    """
    ious, fscores = [], []
    for frames in batches:
        batch_iou = torch.tensor([f['iou'] for f in frames],
                                 dtype=torch.float32)
        ious.append(float(batch_iou.sum() / len(frames)))
        curves = [f_curve(f['tp'], f['pred_pos'], f['gt_pos'])
                  for f in frames if f['gt_pos'] > 0]
        if curves:
            total = curves[0].clone()
            for curve in curves[1:]:
                total += curve
            fscores.append(float((total / len(curves)).max()))
        else:
            fscores.append(0.0)
    return dict(mIoU=float(np.mean(ious)), Fscore=float(np.mean(fscores)))


def batch_independent(frames: Sequence[Dict]) -> Dict[str, float]:
    """Metrics that do not depend on how frames are batched.

    Returns:
        dict: ``mIoU_protoB`` (mean of background and foreground IoU
        accumulated over the split), ``fgIoU_protoB`` (foreground only),
        ``Fscore_protoB`` (max over thresholds of F from precision and recall
        accumulated over the split), ``Fscore_framemean`` (mean over frames
        with non-empty ground truth of each frame's best F).
    """
    total = {k: sum(f[k] for f in frames)
             for k in ('fg_inter', 'fg_union', 'bg_inter', 'bg_union',
                       'gt_pos')}
    fg_iou = total['fg_inter'] / max(total['fg_union'], 1)
    bg_iou = total['bg_inter'] / max(total['bg_union'], 1)
    tp = np.sum([f['tp'] for f in frames], axis=0)
    pred_pos = np.sum([f['pred_pos'] for f in frames], axis=0)
    dataset_f = float(f_curve(tp, pred_pos, total['gt_pos']).max()) \
        if total['gt_pos'] > 0 else 0.0
    frame_f = [float(f_curve(f['tp'], f['pred_pos'], f['gt_pos']).max())
               for f in frames if f['gt_pos'] > 0]
    return dict(
        mIoU_protoB=(fg_iou + bg_iou) / 2,
        fgIoU_protoB=fg_iou,
        Fscore_protoB=dataset_f,
        Fscore_framemean=float(np.mean(frame_f)) if frame_f else 0.0)
