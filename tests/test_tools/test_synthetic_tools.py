"""The synthetic-data command-line tools, run as users run them."""
import json
import os.path as osp
import subprocess
import sys

import pytest

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


MAIN_JOB_TPAVI = ('configs/tpavi/'
                  'tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py')


def tiny_main_job_options(data):
    """One epoch of a narrow model on 32x32 synthetic clips of 2 frames."""
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
    return options


def test_main_job_trains_and_tests_true_and_shuffled_audio(tmp_path):
    """Within a time budget too short for a second epoch: the schedule's 3
    epochs become 1, validated and saved whole, then tested."""
    report = tmp_path / 'main_job.json'
    out = run('tools/misc/main_job.py', MAIN_JOB_TPAVI, '--time-budget',
              '0.001', '--json', str(report),
              '--work-root', str(tmp_path / 'w'), '--cfg-options',
              *tiny_main_job_options(tmp_path / 'syn'),
              'train_cfg.max_epochs=3')
    row = [line for line in out.splitlines()
           if line.startswith('tpavi_r18-w32_1xb4-13e_synthetic-ms3')]
    assert len(row) == 1
    assert int(row[0].split()[1]) == 0  # the config's seed
    values = [float(v) for v in row[0].split()[2:]]
    assert values[1] == 1  # minutes, epochs done, then the metrics
    assert len(values) == 6 and all(0 <= v <= 1 for v in values[2:])
    assert 'Mean' not in out  # one seed: no summary
    work_dir = tmp_path / 'w' / osp.basename(MAIN_JOB_TPAVI)[:-3]
    assert sorted(p.name for p in work_dir.glob('*.pth')) == [
        'best_mIoU_epoch_1.pth', 'epoch_1.pth']
    run_row, = json.loads(report.read_text())['runs']
    assert (run_row['epochs'], run_row['time_budget']) == (1, 0.001)


def test_main_job_seeds_in_parallel_processes(tmp_path):
    """--seeds 2 --workers 2: the config's seed and the next, trained at the
    same time on the same data; the summary is their mean and std."""
    report = tmp_path / 'main_job.json'
    out = run('tools/misc/main_job.py', MAIN_JOB_TPAVI, '--seeds', '2',
              '--workers', '2', '--device', 'cpu', '--json', str(report),
              '--work-root', str(tmp_path / 'w'), '--cfg-options',
              *tiny_main_job_options(tmp_path / 'syn'))
    result = json.loads(report.read_text())
    assert [r['seed'] for r in result['runs']] == [0, 1]
    name = osp.basename(MAIN_JOB_TPAVI)[:-3]
    for seed in (0, 1):
        assert osp.isdir(tmp_path / 'w' / name / f'seed{seed}')
    summary, = result['summary']
    mious = [r['mIoU'] for r in result['runs']]
    assert summary['mIoU'] == pytest.approx(sum(mious) / 2)
    assert summary['mIoU_std'] == pytest.approx(abs(mious[0] - mious[1]) /
                                                2**0.5)
    assert 'Mean ± sample standard deviation over the seeds' in out
    assert f'{summary["mIoU"]:.4f} ± {summary["mIoU_std"]:.4f}' in out


def test_main_job_runs_in_one_process_keep_their_own_scalars(tmp_path):
    """--seeds 2 in one process: mmengine keeps one visualizer per name, so
    without a name of its own the second run's scalars (losses, the
    stability figures) would land in the first run's vis_data."""
    run('tools/misc/main_job.py', MAIN_JOB_TPAVI, '--seeds', '2', '--device',
        'cpu', '--work-root', str(tmp_path / 'w'), '--cfg-options',
        *tiny_main_job_options(tmp_path / 'syn'))
    name = osp.basename(MAIN_JOB_TPAVI)[:-3]
    lines = []
    for seed in (0, 1):
        scalars = list((tmp_path / 'w' / name / f'seed{seed}').glob(
            '*/vis_data/scalars.json'))
        assert len(scalars) == 1, f'seed {seed}: {scalars}'
        lines.append(len(scalars[0].read_text().splitlines()))
    assert lines[0] == lines[1] > 0


def test_main_job_summary_by_hand():
    module = load_tool('tools/misc/main_job.py')
    rows = [dict(name=n, seed=s, epochs=3, minutes=1.0, mIoU=m,
                 mIoU_shuffled=0.2, Fscore=0.5, Fscore_shuffled=0.4)
            for n, s, m in (('a', 0, 0.5), ('b', 0, 0.1), ('a', 1, 0.7),
                            ('a', 2, 0.6))]
    a, b = module.summarise(rows)
    assert (a['name'], a['seeds'], b['seeds']) == ('a', [0, 1, 2], [0])
    assert a['mIoU'] == pytest.approx(0.6)
    assert a['mIoU_std'] == pytest.approx(0.1)  # sample std, n - 1
    assert a['mIoU_shuffled_std'] == pytest.approx(0.0)
    assert b['mIoU'] == 0.1 and b['mIoU_std'] == 0.0


def test_main_job_seeds_start_at_the_config_seed():
    module = load_tool('tools/misc/main_job.py')
    args = module.parse_args([MAIN_JOB_TPAVI, '--seeds', '3',
                              '--cfg-options', 'randomness.seed=5'])
    jobs = module.jobs_of(args)
    assert [j['seed'] for j in jobs] == [5, 6, 7]
    assert [j['subdir'] for j in jobs] == ['seed5', 'seed6', 'seed7']
    single = module.jobs_of(module.parse_args([MAIN_JOB_TPAVI]))
    assert single[0]['seed'] is None and single[0]['subdir'] is None


def test_main_job_refuses_configs_taken_as_metric_keys(capsys):
    module = load_tool('tools/misc/main_job.py')
    args = module.parse_args([MAIN_JOB_TPAVI, '--metric-keys', 'mIoU'])
    assert args.configs == [MAIN_JOB_TPAVI]
    with pytest.raises(SystemExit):
        module.parse_args(['--metric-keys', 'mIoU', MAIN_JOB_TPAVI])
    assert 'put the configs before --metric-keys' in capsys.readouterr().err


def test_main_job_runs_diffusionavs_and_its_ed_model_by_default():
    module = load_tool('tools/misc/main_job.py')
    assert module.DEFAULT_CONFIGS == [
        'configs/diffavs/'
        'diffavs_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py',
        'configs/tpavi/tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py'
    ]
    for config in module.DEFAULT_CONFIGS:
        assert osp.isfile(osp.join(ROOT, config))


VPO_MAIN_JOB = 'configs/tpavi/tpavi_r18-w32_1xb8-20e_synthetic-vpo-64x64.py'


def test_synthetic_baselines_vpo(tmp_path):
    from mmavs.data_tools.synthetic_vpo import make_synthetic_vpo
    make_synthetic_vpo(str(tmp_path), seed=0, size=32,
                       images=dict(train=4, val=12))
    out = run('tools/misc/synthetic_baselines.py', '--vpo', '--data-root',
              str(tmp_path))
    for subset in ('SS', 'MS', 'MSMI'):
        assert f'VPO-{subset} test' in out
    oracle = [line.split() for line in out.splitlines()
              if line.startswith('oracle')]
    everything = [line.split() for line in out.splitlines()
                  if line.startswith('all objects')]
    assert len(oracle) == 3
    for row in oracle:  # mIoU_B, present, F, FDR
        assert float(row[2]) == 1.0 and float(row[3]) == 1.0
        assert float(row[4]) == 0.0
    ms_present = float(everything[1][3])
    assert ms_present < 0.85  # silent objects: vision alone falls short


def test_main_job_reports_the_config_metric_keys():
    module = load_tool('tools/misc/main_job.py')
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, VPO_MAIN_JOB))
    assert module.metric_keys(cfg) == ('mIoU_protoB', 'Fscore_protoB',
                                       'FDR_protoB')
    assert module.metric_keys(cfg, ['mIoU_protoB']) == ('mIoU_protoB', )
    assert module.metric_keys(Config.fromfile(osp.join(
        ROOT, MAIN_JOB_TPAVI))) == ('mIoU', 'Fscore')
    columns = [c[0] for c in module.columns_of(('mIoU_protoB', 'FDR_protoB'))]
    assert columns == ['minutes', 'epochs', 'mIoU_protoB',
                       'mIoU_protoB_shuffled', 'FDR_protoB',
                       'FDR_protoB_shuffled']


def test_vpo_main_job_prints_dataset_level_scores(tmp_path):
    options = ['train_cfg.max_epochs=1',
               'model.backbone.visual.base_channels=8',
               'model.neck.in_channels=[8,16,32,64]',
               'train_dataloader.dataset.pipeline.5.crop_size=(64,64)']
    for loader in ('train', 'val', 'test'):
        dataset = f'{loader}_dataloader.dataset'
        options += [f'{dataset}.data_root={tmp_path / "syn"}',
                    f'{dataset}.synthetic.size=32',
                    f'{dataset}.synthetic.images.train=12',
                    f'{dataset}.synthetic.images.val=6']
    report = tmp_path / 'vpo.json'
    out = run('tools/misc/main_job.py', VPO_MAIN_JOB, '--work-root',
              str(tmp_path / 'w'), '--json', str(report), '--cfg-options',
              *options)
    assert 'mIoU_protoB, Fscore_protoB, FDR_protoB test metrics' in out
    assert 'mIoU_B shuf' in out and 'FDR_B' in out
    row, = json.loads(report.read_text())['runs']
    for key in ('mIoU_protoB', 'Fscore_protoB', 'FDR_protoB'):
        assert 0 <= row[key] <= 1 and 0 <= row[key + '_shuffled'] <= 1
