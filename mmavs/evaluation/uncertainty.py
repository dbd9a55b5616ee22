"""Does a per-pixel uncertainty mark the errors? Are the probabilities calibrated?

Two per-pixel summaries used by ``tools/analysis_tools/uncertainty_eval.py``:

- :func:`auroc`: the area under the ROC curve of a score as a predictor of a
  binary label (here: uncertainty as a predictor of "this pixel is wrong").
  It is the probability that a random positive scores above a random
  negative, ties counting one half (the Mann-Whitney U statistic).
- :func:`calibration_table` / :func:`expected_calibration_error`: the
  probabilities of the foreground class put into equal-width bins; in each
  bin the mean probability against the observed foreground frequency. The
  expected calibration error is their gap averaged over pixels.
"""
from typing import Dict, List

import numpy as np
from scipy.stats import rankdata


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for binary ``labels``.

    Computed from average ranks, so tied scores count one half for each
    positive-negative pair they join. NaN when either class is absent.

    Args:
        scores: Any shape; higher means "more likely positive".
        labels: Same number of elements, bool or {0, 1}.
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel().astype(bool)
    if scores.shape != labels.shape:
        raise ValueError(f'{scores.size} scores for {labels.size} labels')
    num_pos = int(labels.sum())
    num_neg = labels.size - num_pos
    if num_pos == 0 or num_neg == 0:
        return float('nan')
    ranks = rankdata(scores)  # average ranks of ties, 1-based
    u_stat = ranks[labels].sum() - num_pos * (num_pos + 1) / 2
    return float(u_stat / (num_pos * num_neg))


def calibration_table(probs: np.ndarray, labels: np.ndarray,
                      num_bins: int = 10) -> List[Dict[str, float]]:
    """Per bin of the foreground probability: its range, pixel count, mean
    probability and observed foreground frequency.

    Bins are ``[i/B, (i+1)/B)``, the last one closed at 1. Empty bins are
    listed with count 0 and NaN means.
    """
    probs = np.asarray(probs, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel().astype(np.float64)
    if probs.shape != labels.shape:
        raise ValueError(f'{probs.size} probabilities for {labels.size} '
                         'labels')
    if probs.size and (probs.min() < 0 or probs.max() > 1):
        raise ValueError('probabilities must lie in [0, 1]')
    index = np.minimum((probs * num_bins).astype(np.int64), num_bins - 1)
    counts = np.bincount(index, minlength=num_bins)
    prob_sums = np.bincount(index, weights=probs, minlength=num_bins)
    label_sums = np.bincount(index, weights=labels, minlength=num_bins)
    table = []
    for i in range(num_bins):
        n = int(counts[i])
        table.append(dict(
            low=i / num_bins, high=(i + 1) / num_bins, count=n,
            mean_prob=prob_sums[i] / n if n else float('nan'),
            frequency=label_sums[i] / n if n else float('nan')))
    return table


def expected_calibration_error(table: List[Dict[str, float]]) -> float:
    """Σ_b (n_b / N) |frequency_b − mean_prob_b| over the non-empty bins."""
    total = sum(row['count'] for row in table)
    if total == 0:
        return float('nan')
    return float(sum(row['count'] / total *
                     abs(row['frequency'] - row['mean_prob'])
                     for row in table if row['count']))
