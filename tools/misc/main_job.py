"""The main job: train on synthetic data, then test with true and shuffled audio.

For each config: train (generating the synthetic data if missing), take the
best checkpoint, test it on the test split with each clip's own audio and with
the audio of another clip (``test_dataloader.dataset.shuffle_audio=True``),
and print one table. Audio matters to a model only as far as the two differ.

Without arguments it runs DiffusionAVS and its E-D model (TPAVI) on the
same synthetic data and budget. One config::

    python tools/misc/main_job.py \
        configs/tpavi/tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py
"""
import argparse
import glob
import os.path as osp
import time
from typing import Dict, List

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mmavs  # noqa: F401

# DiffusionAVS and its E-D model (TPAVI) on the same data and budget.
DEFAULT_CONFIGS = [
    'configs/diffavs/diffavs_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py',
    'configs/tpavi/tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py',
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='*', default=DEFAULT_CONFIGS)
    parser.add_argument('--work-root', default='work_dirs/main_job')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides applied to every config')
    return parser.parse_args()


def load(config: str, work_dir: str, options) -> Config:
    cfg = Config.fromfile(config)
    if options:
        cfg.merge_from_dict(options)
    cfg.work_dir = work_dir
    return cfg


def test(cfg: Config, checkpoint: str, shuffle_audio: bool) -> Dict:
    cfg = cfg.copy()
    cfg.load_from = checkpoint
    cfg.test_dataloader.dataset.shuffle_audio = shuffle_audio
    cfg.default_hooks.visualization = dict(type='SegVisualizationHook')
    return Runner.from_cfg(cfg).test()


def run(config: str, work_root: str, options) -> Dict:
    name = osp.splitext(osp.basename(config))[0]
    cfg = load(config, osp.join(work_root, name), options)
    start = time.time()
    Runner.from_cfg(cfg.copy()).train()
    train_minutes = (time.time() - start) / 60
    best = sorted(glob.glob(osp.join(cfg.work_dir, 'best_mIoU_*.pth')))
    if not best:
        raise RuntimeError(f'no best checkpoint in {cfg.work_dir}')
    true_audio = test(cfg, best[-1], shuffle_audio=False)
    shuffled = test(cfg, best[-1], shuffle_audio=True)
    return dict(name=name, minutes=train_minutes, true=true_audio,
                shuffled=shuffled)


def print_table(rows: List[Dict]) -> None:
    print('\nMain job: protocol-A test metrics, true vs shuffled audio')
    width = max(len(r['name']) for r in rows) + 2
    header = (f'{"config":<{width}}{"train min":>10}{"mIoU":>8}{"mIoU shuf":>10}'
              f'{"F":>8}{"F shuf":>8}')
    print(header)
    for r in rows:
        print(f'{r["name"]:<{width}}{r["minutes"]:>10.1f}'
              f'{r["true"]["mIoU"]:>8.4f}{r["shuffled"]["mIoU"]:>10.4f}'
              f'{r["true"]["Fscore"]:>8.4f}{r["shuffled"]["Fscore"]:>8.4f}')


def main():
    args = parse_args()
    rows = [run(c, args.work_root, args.cfg_options) for c in args.configs]
    print_table(rows)


if __name__ == '__main__':
    main()
