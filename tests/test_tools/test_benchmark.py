"""The benchmark script runs and reports the model against its E-D model."""
import os.path as osp
import subprocess
import sys

from conftest import TINY_AVSEGFORMER_HEAD

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def check_ratio(row):
    """The printed ratio lies within what the printed (3-decimal) times
    allow."""
    model, base, ratio = map(float, row[-3:])
    half = 0.0005
    low = (model - half) / (base + half)
    high = (model + half) / max(base - half, 1e-9)
    assert low - half <= ratio <= high + half, row


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
        check_ratio(row)


def test_benchmark_compares_heads():
    result = subprocess.run(
        [sys.executable, 'tools/analysis_tools/benchmark.py',
         'configs/diffavs/pvt_ms3_avsegformer-head.py', '--baseline',
         'fpn-head', '--size', '64', '--frames', '2', '--repeats', '1',
         '--cfg-options', 'model.backbone.visual.embed_dims=8',
         'model.backbone.visual.num_layers=[1,1,1,1]',
         'model.neck.fusion.in_channels=[8,16,40,64]', *TINY_AVSEGFORMER_HEAD],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'FPN head' in result.stdout
    rows = [line.split() for line in result.stdout.splitlines()
            if line.startswith(('inference', 'training', 'head'))]
    assert [r[0] for r in rows] == ['inference', 'training', 'head']
    for row in rows:
        check_ratio(row)


def test_fpn_head_needs_equal_levels():
    result = subprocess.run(
        [sys.executable, 'tools/analysis_tools/benchmark.py',
         'configs/avsegformer/avsegformer_r50_1xb2-30e_s4-224x224.py',
         '--baseline', 'fpn-head'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert 'levels of equal width' in result.stderr


def test_benchmark_compares_several_samples_with_one():
    result = subprocess.run(
        [sys.executable, 'tools/analysis_tools/benchmark.py',
         'configs/diffavs/diffavs_r18_1xb4-20e_synthetic-ms3-64x64.py',
         '--baseline', 'one-sample', '--size', '64', '--frames', '2',
         '--repeats', '1', '--cfg-options',
         'model.backbone.visual.base_channels=8',
         'model.neck.fusion.in_channels=[8,16,32,64]',
         'model.neck.num_samples=3'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split() for line in result.stdout.splitlines()
            if line.startswith(('inference', 'training'))]
    assert [r[0] for r in rows] == ['inference']
    check_ratio(rows[0])
