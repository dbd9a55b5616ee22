"""The benchmark script runs and reports the model against its E-D model."""
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_benchmark_prints_ratios():
    result = subprocess.run(
        [sys.executable, 'tools/analysis_tools/benchmark.py',
         'configs/diffavs/diffavs_r18_1xb4-20e_synthetic-ms3-64x64.py',
         '--size', '64', '--frames', '2', '--repeats', '1', '--cfg-options',
         'model.backbone.visual.base_channels=8',
         'model.neck.fusion.in_channels=[8,16,32,64]'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()
            if line.startswith(('inference', 'training'))}
    assert set(rows) == {'inference', 'training'}
    for row in rows.values():
        model, ed, ratio = map(float, row[-3:])
        # printed with 3 decimals: the ratio agrees up to that rounding
        assert ratio == pytest.approx(model / ed, rel=0.03)
