"""The synthetic-data command-line tools, run as users run them."""
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run(*args):
    result = subprocess.run([sys.executable, *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_make_synthetic_avsbench_cli(tmp_path):
    out = run('tools/dataset_converters/make_synthetic_avsbench.py',
              str(tmp_path), '--size', '32', '--num-frames', '2', '--clips',
              '2', '1', '1', '--subsets', 'ms3', '--audio-format', 'pkl')
    assert 'wrote synthetic AVSBench data' in out
    assert osp.isfile(tmp_path / 'Multi-sources' / 'ms3_meta_data.csv')
    assert not osp.exists(tmp_path / 'Single-source')
    feats = tmp_path / 'Multi-sources' / 'ms3_data' / 'audio_log_mel'
    assert len(list(feats.glob('*/*.pkl'))) == 4


def test_synthetic_baselines_main_job(tmp_path):
    out = run('tools/misc/synthetic_baselines.py', '--data-root',
              str(tmp_path / 'syn'), '--size', '32')
    assert 'generating synthetic AVSBench data' in out
    oracle = [line for line in out.splitlines() if line.startswith('oracle')]
    assert len(oracle) == 2  # S4 and MS3
    for line in oracle:
        assert all(float(v) == 1.0 for v in line.split()[1:])
    everything = [line for line in out.splitlines()
                  if line.startswith('all objects')]
    ms3_miou = float(everything[1].split()[2])
    assert ms3_miou <= 0.6
