"""Per-frame class counts of semantic AVS, and the two AVSS protocols.

Every variant is computed from the same per-frame statistics: for each class
c, ``inter`` = #(pred = c and gt = c), ``pred`` = #(pred = c) and ``gt`` =
#(gt = c), over the pixels whose ground truth is not ignored. See
``docs/en/metrics.md`` for the formulas and ``avss.md`` §5 for the sources.

- :func:`per_frame_protocol`: the official AVSBench semantic protocol
  ("sem-A"): per-frame per-class IoU and F, averaged per class over the
  frames where the class is predicted or present, then over all classes.
- :func:`dataset_level_protocol`: the protocol of CAVP / CPM ("sem-B"):
  intersections, unions and the confusion counts accumulated over the split.
"""
from typing import Dict, Optional, Sequence

import numpy as np

EPS = 2.220446049250313e-16  # the reference's float64 epsilon
BETA2 = 0.3


def class_counts(pred: np.ndarray, gt: np.ndarray, num_classes: int,
                 ignore_index: Optional[int] = 255) -> np.ndarray:
    """``(3, num_classes)`` int64 counts ``inter``, ``pred``, ``gt`` of a
    frame.

    Args:
        pred: ``(H, W)`` predicted class indices.
        gt: ``(H, W)`` ground-truth class indices; ``ignore_index`` pixels
            are left out of every count.
        num_classes: C.
        ignore_index: Ignored ground-truth value, or ``None``.
    """
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f'prediction shape {pred.shape} differs from ground '
                         f'truth shape {gt.shape}')
    pred = pred.astype(np.int64).ravel()
    gt = gt.astype(np.int64).ravel()
    if ignore_index is not None:
        keep = gt != ignore_index
        pred, gt = pred[keep], gt[keep]
    for name, values in (('prediction', pred), ('ground truth', gt)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f'{name} holds class {values.max()} outside '
                             f'0..{num_classes - 1}')
    inter = np.bincount(gt[pred == gt], minlength=num_classes)
    return np.stack([inter, np.bincount(pred, minlength=num_classes),
                     np.bincount(gt, minlength=num_classes)]).astype(np.int64)


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with NaN where ``den`` is 0."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def per_frame_protocol(counts: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-class scores of the official AVSBench semantic protocol.

    Per frame f and class c: union = P + G - inter, IoU = inter / (union +
    eps); F = 1.3 prec rec / (0.3 prec + rec) with prec = inter / P, rec =
    inter / G, NaN set to 0. A class counts in frame f when its union is
    positive (predicted or present); its score is the sum of its per-frame
    scores over the frames where it counts, divided by that number (0 for a
    class that never counts).

    Args:
        counts: ``(F, 3, C)`` per-frame counts of :func:`class_counts`.

    Returns:
        dict: ``iou`` and ``fscore`` ``(C,)`` per-class scores, ``count``
        ``(C,)`` frames in which each class counts.
    """
    counts = np.asarray(counts, dtype=np.float64).reshape(-1, 3,
                                                          counts.shape[-1])
    inter, pred, gt = counts[:, 0], counts[:, 1], counts[:, 2]
    union = pred + gt - inter
    iou = inter / (union + EPS)
    precision, recall = _divide(inter, pred), _divide(inter, gt)
    with np.errstate(invalid='ignore', divide='ignore'):
        fscore = (1 + BETA2) * precision * recall / (BETA2 * precision +
                                                     recall)
    fscore = np.nan_to_num(fscore, nan=0.0)
    count = (union > 0).sum(0)
    return dict(iou=np.nan_to_num(_divide(iou.sum(0), count)),
                fscore=np.nan_to_num(_divide(fscore.sum(0), count)),
                count=count)


def dataset_level_protocol(counts: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-class scores of the dataset-level protocol of CAVP / CPM.

    Over all frames: I = sum inter, U = sum union, TP = I, FP = sum P - I,
    FN = sum G - I. IoU = I / (U + eps) (0 for an absent class); F_beta =
    (1 + b2) TP / ((1 + b2) TP + b2 FN + FP) with b2 = 0.3, F1 likewise with
    b2 = 1, FDR = FP / (FP + TP), each NaN where its denominator is 0.

    Args:
        counts: ``(F, 3, C)`` or the already summed ``(3, C)``.

    Returns:
        dict: ``(C,)`` arrays ``iou``, ``fscore``, ``f1``, ``fdr`` and
        ``union``.
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum(0) if counts.ndim == 3 else counts
    tp, pred, gt = total
    fp, fn = pred - tp, gt - tp
    union = pred + gt - tp
    return dict(
        iou=tp / (union + EPS),
        fscore=_divide((1 + BETA2) * tp, (1 + BETA2) * tp + BETA2 * fn + fp),
        f1=_divide(2 * tp, 2 * tp + fn + fp),
        fdr=_divide(fp, fp + tp),
        union=union)


def _nanmean(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else 0.0


def summarize(counts: np.ndarray,
              classes: Optional[Sequence[int]] = None,
              protocols: Sequence[str] = ('A', 'B')) -> Dict[str, float]:
    """Scalar scores of both protocols over a set of frames.

    Args:
        counts: ``(F, 3, C)`` per-frame counts (the frames each protocol
            scores; select them before calling).
        classes: Class indices to average over (default all C; ``1..C-1``
            for the no-background variants). Classes never predicted nor
            present count as 0 in protocol A and in ``mIoU_protoB``.
        protocols: ``'A'`` and / or ``'B'``.

    Returns:
        dict: ``mIoU``, ``Fscore`` (A); ``mIoU_protoB``,
        ``mIoU_protoB_present`` (mean over classes with a positive union),
        ``Fscore_protoB``, ``F1_protoB``, ``FDR_protoB`` (nan-means over
        classes, B).
    """
    counts = np.asarray(counts)
    num_classes = counts.shape[-1]
    keep = np.arange(num_classes) if classes is None else np.asarray(classes)
    out: Dict[str, float] = {}
    if 'A' in protocols:
        scores = per_frame_protocol(counts) if len(counts) else dict(
            iou=np.zeros(num_classes), fscore=np.zeros(num_classes))
        out.update(mIoU=float(scores['iou'][keep].mean()),
                   Fscore=float(scores['fscore'][keep].mean()))
    if 'B' in protocols:
        scores = dataset_level_protocol(
            counts if len(counts) else np.zeros((3, num_classes)))
        present = scores['union'][keep] > 0
        out.update(
            mIoU_protoB=float(scores['iou'][keep].mean()),
            mIoU_protoB_present=float(scores['iou'][keep][present].mean())
            if present.any() else 0.0,
            Fscore_protoB=_nanmean(scores['fscore'][keep]),
            F1_protoB=_nanmean(scores['f1'][keep]),
            FDR_protoB=_nanmean(scores['fdr'][keep]))
    return out
