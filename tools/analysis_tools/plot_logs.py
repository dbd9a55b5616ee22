"""Plot training losses and validation AVS metrics of a work dir.

Usage::

    python tools/analysis_tools/plot_logs.py WORK_DIR [--out-dir DIR]
        [--all-runs]

Reads mmengine's scalar log, ``WORK_DIR/<timestamp>/vis_data/scalars.json``
(one JSON object per line: training lines carry ``loss``, ``loss_*``, ``lr``,
``epoch``, ``iter`` and ``step``; validation lines carry the metrics, e.g.
``mIoU`` and ``Fscore``, with ``step`` = epoch). By default the latest run is
plotted; ``--all-runs`` joins every run of the work dir in time order (a
resumed training continues in a new timestamp folder). WORK_DIR may also be
a ``scalars.json`` file. Writes, under ``--out-dir`` (default
``WORK_DIR/plots``):

- ``losses.png``: each loss against the iteration (logged values, and their
  mean per epoch as dots), and the learning rate;
- ``metrics.png``: the validation metrics per epoch, IoU and F-score apart;

and prints the best epoch of each metric.
"""
import argparse
import glob
import json
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use('Agg')  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402

# Keys that are bookkeeping, not curves worth a panel of their own.
NOT_METRICS = ('step', 'epoch', 'iter', 'lr', 'time', 'data_time', 'memory')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Plot losses and AVS metrics from mmengine scalars')
    parser.add_argument('work_dir', help='work dir, or a scalars.json file')
    parser.add_argument('--out-dir',
                        help='where the PNGs go (default WORK_DIR/plots)')
    parser.add_argument('--all-runs', action='store_true',
                        help='join every run of the work dir, oldest first')
    return parser.parse_args(argv)


def find_scalar_files(work_dir: str, all_runs: bool = False) -> List[str]:
    """The ``scalars.json`` files to read, oldest first.

    Raises:
        SystemExit: None found.
    """
    if osp.isfile(work_dir):
        return [work_dir]
    # Run folders are named by their start time, so names sort by time.
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise SystemExit(f'error: no */vis_data/scalars.json under '
                         f'{work_dir}; is it a training work dir?')
    return files if all_runs else files[-1:]


def is_loss_key(key: str) -> bool:
    return key == 'loss' or key.startswith('loss_')


def load_scalars(paths: List[str]) -> Tuple[List[dict], List[dict]]:
    """Split the logged lines into training and validation records.

    Returns:
        tuple: Training records (with ``iter``), validation records (with
        ``step`` = epoch), each in file order.
    """
    train, val = [], []
    for path in paths:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise SystemExit(
                        f'error: {path}:{number} is not JSON: {err}') from err
                if 'iter' in record and any(map(is_loss_key, record)):
                    train.append(record)
                elif 'iter' not in record and metric_keys([record]):
                    val.append(record)
    return train, val


def metric_keys(records: List[dict]) -> List[str]:
    """Numeric keys of validation records that are metrics, in log order."""
    keys: Dict[str, None] = {}
    for record in records:
        for key, value in record.items():
            if key not in NOT_METRICS and isinstance(value, (int, float)) \
                    and not is_loss_key(key):
                keys[key] = None
    return list(keys)


def epoch_means(train: List[dict],
                key: str) -> Tuple[List[float], List[float]]:
    """Mean of ``key`` over each epoch's logged values.

    Returns:
        tuple: The last logged iteration of each epoch, and the means.
    """
    values: Dict[int, List[float]] = defaultdict(list)
    last_iter: Dict[int, int] = {}
    for record in train:
        if key in record and 'epoch' in record:
            values[record['epoch']].append(record[key])
            last_iter[record['epoch']] = record['iter']
    epochs = sorted(values)
    return ([last_iter[e] for e in epochs],
            [sum(values[e]) / len(values[e]) for e in epochs])


def plot_losses(train: List[dict], path: str) -> None:
    """One panel per loss against the iteration, and one for ``lr``."""
    keys = [k for k in dict.fromkeys(k for r in train for k in r)
            if is_loss_key(k)]
    keys += ['lr'] if any('lr' in r for r in train) else []
    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.4 * len(keys)),
                             sharex=True, squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        points = [(r['iter'], r[key]) for r in train if key in r]
        ax.plot(*zip(*points), lw=1, alpha=0.6, label='logged')
        if key != 'lr':
            ax.plot(*epoch_means(train, key), 'o-', ms=3,
                    label='epoch mean')
            ax.legend(loc='upper right', fontsize=8)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel('iteration')
    fig.suptitle('training')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def group_metrics(keys: List[str]) -> List[Tuple[str, List[str]]]:
    """Panels: IoU metrics, F-scores, anything else."""
    iou = [k for k in keys if 'IoU' in k]
    fscore = [k for k in keys if 'Fscore' in k]
    rest = [k for k in keys if k not in iou and k not in fscore]
    return [(title, group) for title, group in (
        ('IoU', iou), ('F-score', fscore), ('other', rest)) if group]


def plot_metrics(val: List[dict], path: str) -> None:
    """The validation metrics per epoch (``step``)."""
    groups = group_metrics(metric_keys(val))
    fig, axes = plt.subplots(len(groups), 1, figsize=(7, 3 * len(groups)),
                             sharex=True, squeeze=False)
    for ax, (title, keys) in zip(axes[:, 0], groups):
        for key in keys:
            points = [(r['step'], r[key]) for r in val if key in r]
            ax.plot(*zip(*points), 'o-', ms=3, label=key)
        ax.set_ylabel(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[-1, 0].set_xlabel('epoch')
    fig.suptitle('validation')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def best_epochs(val: List[dict]) -> Dict[str, Tuple[int, float]]:
    """``metric → (epoch, value)`` of its highest value (first on ties)."""
    best = {}
    for key in metric_keys(val):
        points = [(r[key], -r['step']) for r in val if key in r]
        value, neg_epoch = max(points)
        best[key] = (-neg_epoch, value)
    return best


def main(argv: Optional[List[str]] = None) -> List[str]:
    """Write the plots; return their paths."""
    args = parse_args(argv)
    files = find_scalar_files(args.work_dir, args.all_runs)
    train, val = load_scalars(files)
    if not train and not val:
        raise SystemExit(f'error: no training or validation scalars in '
                         f'{", ".join(files)}')
    base = args.work_dir if osp.isdir(args.work_dir) else osp.dirname(
        osp.dirname(osp.dirname(osp.abspath(args.work_dir))))
    out_dir = args.out_dir or osp.join(base, 'plots')
    os.makedirs(out_dir, exist_ok=True)
    written = []
    if train:
        written.append(osp.join(out_dir, 'losses.png'))
        plot_losses(train, written[-1])
    if val:
        written.append(osp.join(out_dir, 'metrics.png'))
        plot_metrics(val, written[-1])
        for key, (epoch, value) in best_epochs(val).items():
            print(f'best {key}: {value:.4f} at epoch {epoch}')
    print('read ' + ', '.join(files))
    print('wrote ' + ', '.join(written))
    return written


if __name__ == '__main__':
    main()
