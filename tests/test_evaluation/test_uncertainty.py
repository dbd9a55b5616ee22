"""AUROC and calibration against values worked out by hand."""
import math

import numpy as np
import pytest

from mmavs.evaluation.uncertainty import (auroc, calibration_table,
                                          expected_calibration_error)


def test_auroc_counts_ordered_pairs():
    # Positive-negative pairs: (0.35, 0.1) yes, (0.35, 0.4) no,
    # (0.8, 0.1) yes, (0.8, 0.4) yes: 3 of 4.
    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)


def test_auroc_ties_count_one_half():
    # Positives {0.5, 0.9}, negatives {0.5, 0.2}: 0.5 + 1 + 1 + 1 of 4.
    assert auroc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1]) == pytest.approx(0.875)
    assert auroc(np.ones(6), [1, 0, 1, 0, 0, 1]) == pytest.approx(0.5)


def test_auroc_extremes_shapes_and_missing_class():
    labels = np.array([[0, 1], [0, 1]], dtype=bool)
    assert auroc(np.array([[0.1, 0.9], [0.2, 0.8]]), labels) == 1.0
    assert auroc(np.array([[0.9, 0.1], [0.8, 0.2]]), labels) == 0.0
    assert math.isnan(auroc([0.1, 0.2], [0, 0]))
    with pytest.raises(ValueError):
        auroc([0.1, 0.2, 0.3], [0, 1])


def test_calibration_table_and_ece_by_hand():
    probs = [0.05, 0.15, 0.12, 0.95, 1.0]
    labels = [0, 1, 0, 1, 1]
    table = calibration_table(probs, labels, num_bins=10)
    assert [row['count'] for row in table] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]
    assert table[1]['mean_prob'] == pytest.approx(0.135)
    assert table[1]['frequency'] == pytest.approx(0.5)
    assert table[9]['mean_prob'] == pytest.approx(0.975)  # 1.0 in the last
    assert math.isnan(table[5]['mean_prob'])
    # (1 * 0.05 + 2 * 0.365 + 2 * 0.025) / 5
    assert expected_calibration_error(table) == pytest.approx(0.166)


def test_bin_edges_and_perfect_calibration():
    table = calibration_table([0.1, 0.5, 0.0], [0, 1, 0], num_bins=2)
    assert [row['count'] for row in table] == [2, 1]  # 0.5 opens bin 2
    perfect = calibration_table([0.25] * 4 + [0.75] * 4,
                                [1, 0, 0, 0, 1, 1, 1, 0], num_bins=2)
    assert expected_calibration_error(perfect) == pytest.approx(0.0)
    assert math.isnan(expected_calibration_error(calibration_table([], [])))
    with pytest.raises(ValueError):
        calibration_table([1.5], [1])
