"""Resuming, and 2-process CPU runs, through the command-line tools."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

from conftest import data_options, small_model_options

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/tpavi/tpavi_r50_1xb4-15e_s4-224x224.py'


def run(args, timeout=600):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout + result.stderr


def train(work_dir, root, epochs, *extra):
    options = data_options(root) + small_model_options(CONFIG) + [
        f'train_cfg.max_epochs={epochs}', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=5'
    ]
    return run([sys.executable, 'tools/train.py', CONFIG, '--work-dir',
                str(work_dir), *extra, '--cfg-options', *options])


def scalars(work_dir):
    """Logged training losses by step and validation metrics by epoch."""
    losses, metrics = {}, {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        for line in open(path):
            entry = json.loads(line)
            if 'loss' in entry:
                losses[entry['step']] = entry['loss']
            if 'mIoU' in entry:
                metrics[entry['step']] = (entry['mIoU'], entry['Fscore'])
    return losses, metrics


def test_resume_gives_the_same_losses_and_metrics(avsbench_root, tmp_path):
    straight, resumed = tmp_path / 'straight', tmp_path / 'resumed'
    train(straight, avsbench_root, 2)
    train(resumed, avsbench_root, 1)
    log = train(resumed, avsbench_root, 2, '--resume')
    assert 'resumed epoch: 1' in log
    losses_a, metrics_a = scalars(str(straight))
    losses_b, metrics_b = scalars(str(resumed))
    assert len(losses_a) == 4 and losses_a == losses_b
    assert len(metrics_a) == 2 and metrics_a == metrics_b


def torchrun(*args):
    return [sys.executable, '-m', 'torch.distributed.run', '--nnodes=1',
            '--nproc_per_node=2', '--master_addr=127.0.0.1',
            '--master_port=29517', *args, '--launcher', 'pytorch']


def test_two_process_cpu_run_matches_one_process(avsbench_root, tmp_path):
    options = data_options(avsbench_root) + small_model_options(CONFIG)
    work = tmp_path / 'dist'
    run(torchrun('tools/train.py', CONFIG, '--work-dir', str(work),
                 '--cfg-options', *options, 'train_cfg.max_epochs=1'))
    checkpoint = glob.glob(str(work / 'best_mIoU_epoch_1.pth'))[0]
    single = run([sys.executable, 'tools/test.py', CONFIG, checkpoint,
                  '--work-dir', str(tmp_path / 'one'), '--cfg-options',
                  *options, 'test_dataloader.batch_size=1'])
    double = run(torchrun('tools/test.py', CONFIG, checkpoint, '--work-dir',
                          str(tmp_path / 'two'), '--cfg-options', *options))

    def summary(log):
        return [line for line in log.splitlines()
                if line.strip().startswith(('mIoU', 'Fscore'))]

    assert summary(single) and summary(single) == summary(double)
