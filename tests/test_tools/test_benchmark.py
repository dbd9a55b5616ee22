"""The benchmark script runs and reports the model against its E-D model."""
import json
import os.path as osp
import subprocess
import sys

import pytest

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


def time_rows(stdout):
    """The rows of times (``s/batch``, ``s/step``), split."""
    return [line.split() for line in stdout.splitlines()
            if line.split()[1:2] in (['s/batch'], ['s/step'])]


TINY_R18 = ['model.backbone.visual.base_channels=8',
            'model.neck.fusion.in_channels=[8,16,32,64]']


def test_benchmark_prints_ratios():
    result = subprocess.run(
        [sys.executable, 'tools/analysis_tools/benchmark.py',
         'configs/diffavs/diffavs_r18_1xb4-20e_synthetic-ms3-64x64.py',
         '--size', '64', '--frames', '2', '--repeats', '1', '--cfg-options',
         *TINY_R18],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = time_rows(result.stdout)
    assert [r[0] for r in rows] == ['inference', 'training']
    for row in rows:
        check_ratio(row)
    assert 'peak memory per model: n/a on CPU' in result.stdout


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
    rows = time_rows(result.stdout)
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


def test_benchmark_speed_flags(tmp_path):
    """--batch, --amp, --channels-last and --compile run on CPU; clips/s is
    the batch over the time, and the JSON holds what was printed."""
    out = tmp_path / 'bench.json'
    result = subprocess.run(
        [sys.executable, 'tools/analysis_tools/benchmark.py',
         'configs/diffavs/diffavs_r18_1xb4-20e_synthetic-ms3-64x64.py',
         '--size', '32', '--frames', '2', '--batch', '3', '--repeats', '1',
         '--warmup', '0', '--amp', 'bf16', '--channels-last', '--compile',
         '--compile-backend', 'eager', '--json', str(out),
         '--cfg-options', *TINY_R18],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'batch 3 clip(s) of 2 frames' in result.stdout
    assert 'amp bf16, channels-last on, compile eager' in result.stdout
    report = json.loads(out.read_text())
    for name in ('ours', 'base'):
        for key in ('infer', 'train'):
            seconds = report['seconds'][name][key]
            assert report['clips_per_s'][name][key] == \
                pytest.approx(3 / seconds)
    assert report['ratio']['infer'] == pytest.approx(
        report['seconds']['ours']['infer'] /
        report['seconds']['base']['infer'])
    assert report['process_peak_rss_mib'] > 0
    rates = [line.split() for line in result.stdout.splitlines()
             if 'clips/s' in line]
    assert [r[0] for r in rates] == ['inference', 'training']


def test_benchmark_fp16_training_only(tmp_path):
    """fp16 autocast trains with a gradient scaler; --only times one step."""
    out = tmp_path / 'bench.json'
    result = subprocess.run(
        [sys.executable, 'tools/analysis_tools/benchmark.py',
         'configs/diffavs/diffavs_r18_1xb4-20e_synthetic-ms3-64x64.py',
         '--size', '32', '--frames', '2', '--repeats', '1', '--warmup', '0',
         '--amp', 'fp16', '--only', 'train', '--json', str(out),
         '--cfg-options', *TINY_R18],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(json.loads(out.read_text())['seconds']['ours']) == ['train']
    assert [r[0] for r in time_rows(result.stdout)] == ['training']


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
    rows = time_rows(result.stdout)
    assert [r[0] for r in rows] == ['inference']
    check_ratio(rows[0])
