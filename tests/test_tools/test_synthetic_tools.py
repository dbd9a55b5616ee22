"""The synthetic-data command-line tools, run as users run them."""
import os.path as osp
import subprocess
import sys

from conftest import load_tool

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


def test_synthetic_baselines_skip_a_subset_the_data_lacks(tmp_path):
    run('tools/dataset_converters/make_synthetic_avsbench.py',
        str(tmp_path), '--size', '32', '--clips', '2', '1', '2', '--subsets',
        'ms3')
    out = run('tools/misc/synthetic_baselines.py', '--data-root',
              str(tmp_path))
    assert 'MS3 test (2 clips)' in out and 'S4 test' not in out


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


def test_main_job_trains_and_tests_true_and_shuffled_audio(tmp_path):
    data = tmp_path / 'syn'
    synthetic = {'size': 32, 'num_frames': 2, 's4_clips.train': 0,
                 's4_clips.val': 0, 's4_clips.test': 0, 'ms3_clips.train': 4,
                 'ms3_clips.val': 2, 'ms3_clips.test': 4}
    options = ['train_cfg.max_epochs=1', 'model.backbone.visual.base_channels=8',
               'model.neck.in_channels=[8,16,32,64]']
    for loader in ('train', 'val', 'test'):
        dataset = f'{loader}_dataloader.dataset'
        options += [f'{dataset}.data_root={data}', f'{dataset}.num_frames=2']
        options += [f'{dataset}.synthetic.{k}={v}'
                    for k, v in synthetic.items()]
    out = run('tools/misc/main_job.py',
              'configs/tpavi/'
              'tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py',
              '--work-root', str(tmp_path / 'w'), '--cfg-options', *options)
    row = [line for line in out.splitlines()
           if line.startswith('tpavi_r18-w32_1xb4-13e_synthetic-ms3')]
    assert len(row) == 1
    values = [float(v) for v in row[0].split()[1:]]
    assert len(values) == 5 and all(0 <= v <= 1 for v in values[1:])


def test_main_job_runs_diffusionavs_and_its_ed_model_by_default():
    module = load_tool('tools/misc/main_job.py')
    assert module.DEFAULT_CONFIGS == [
        'configs/diffavs/'
        'diffavs_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py',
        'configs/tpavi/tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py'
    ]
    for config in module.DEFAULT_CONFIGS:
        assert osp.isfile(osp.join(ROOT, config))
