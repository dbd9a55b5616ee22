"""The main job: train on synthetic data, then test with true and shuffled audio.

For each config: train (generating the synthetic data if missing), take the
best checkpoint, test it on the test split with each clip's own audio and with
the audio of another clip (``test_dataloader.dataset.shuffle_audio=True``),
and print one table. Audio matters to a model only as far as the two differ.

Without arguments it runs DiffusionAVS and its E-D model (TPAVI) on the
same synthetic data and budget. One config::

    python tools/misc/main_job.py \
        configs/tpavi/tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py

Several seeds (``--seeds 3``: the config's training seed and the next two;
the data stays the same, it has its own seed) print one row per run and the
mean ± sample standard deviation per config. ``--workers K`` trains K runs
at a time in separate processes (each with its share of the CPU threads, or
of one GPU); ``--device cpu`` hides any GPU; ``--json`` writes every row::

    python tools/misc/main_job.py --seeds 3 --workers 3 --json main_job.json

The columns are the test metric's: ``mIoU`` / ``Fscore`` (AVSBench
protocol A) by default, the dataset-level ``mIoU_protoB`` / ``Fscore_protoB``
/ ``FDR_protoB`` when the config's test evaluator is ``VPOMetric`` (VPO is
scored only that way), or any keys given with ``--metric-keys``::

    python tools/misc/main_job.py \
        configs/tpavi/tpavi_r18-w32_1xb8-20e_synthetic-vpo-64x64.py

``--time-budget MINUTES`` gives every run the same wall-clock budget for
training and its validations: training stops at the end of the last epoch
that fits (``TimeBudgetHook`` projects from the mean epoch time; no epoch is
cut, the last one is validated and saved), then the best checkpoint is
tested as above. The row records the epochs done and the minutes::

    python tools/misc/main_job.py --time-budget 10 CONFIG...
"""
import argparse
import glob
import json
import os
import os.path as osp
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import Dict, List, Optional, Sequence

# DiffusionAVS and its E-D model (TPAVI) on the same data and budget.
DEFAULT_CONFIGS = [
    'configs/diffavs/diffavs_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py',
    'configs/tpavi/tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py',
]
# (key in a row, column title, format) of the printed tables.
COLUMNS = [('minutes', 'train min', '.1f'), ('mIoU', 'mIoU', '.4f'),
           ('mIoU_shuffled', 'mIoU shuf', '.4f'), ('Fscore', 'F', '.4f'),
           ('Fscore_shuffled', 'F shuf', '.4f')]
DEFAULT_KEYS = ('mIoU', 'Fscore')
# Test evaluators whose configs are scored with other keys by default.
EVALUATOR_KEYS = dict(VPOMetric=('mIoU_protoB', 'Fscore_protoB',
                                 'FDR_protoB'))
TITLES = dict(mIoU='mIoU', Fscore='F', mIoU_protoB='mIoU_B',
              Fscore_protoB='F_B', FDR_protoB='FDR_B')


def metric_keys(cfg, keys: Optional[Sequence[str]] = None) -> tuple:
    """The metric keys of a run's table: ``keys`` if given, else those of
    the config's test evaluator (``EVALUATOR_KEYS``), else mIoU and F."""
    if keys:
        return tuple(keys)
    evaluator = cfg.get('test_evaluator') or {}
    if isinstance(evaluator, (list, tuple)):
        evaluator = evaluator[0] if evaluator else {}
    return EVALUATOR_KEYS.get(evaluator.get('type'), DEFAULT_KEYS)


def columns_of(keys: Sequence[str]) -> list:
    """Table columns: training minutes, epochs trained (fewer than the
    config's under ``--time-budget``), then each key true / shuffled."""
    columns = [('minutes', 'train min', '.1f'), ('epochs', 'epochs', '.0f')]
    for key in keys:
        title = TITLES.get(key, key)
        columns += [(key, title, '.4f'),
                    (key + '_shuffled', title + ' shuf', '.4f')]
    return columns


def parse_args(argv: Optional[Sequence[str]] = None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='*', default=DEFAULT_CONFIGS)
    parser.add_argument('--work-root', default='work_dirs/main_job')
    parser.add_argument('--seeds', type=int, default=1,
                        help='training seeds per config: the config\'s '
                        'randomness.seed and the next N-1')
    parser.add_argument('--workers', type=int, default=1,
                        help='runs trained at a time, in separate processes')
    parser.add_argument('--device', choices=('auto', 'cpu', 'cuda'),
                        default='auto',
                        help='auto: a GPU if there is one (mmengine\'s '
                        'choice); cpu: hide every GPU')
    parser.add_argument('--json', help='write every run\'s row to this file')
    parser.add_argument('--time-budget', type=float, metavar='MINUTES',
                        help='wall-clock minutes of training (with its '
                        'validations) per run, spent in whole epochs')
    parser.add_argument('--metric-keys', nargs='+',
                        help='test metric keys to report (default: from the '
                        'config\'s test evaluator; mIoU Fscore)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides applied to every config')
    args = parser.parse_args(argv)
    # --metric-keys takes every word after it: configs written after it
    # would silently become metric keys and the default configs would run.
    misplaced = [k for k in args.metric_keys or [] if k.endswith('.py')]
    if misplaced:
        parser.error(f'--metric-keys got config files {misplaced}: put the '
                     'configs before --metric-keys')
    return args


def load(config: str, work_dir: str, options, seed: Optional[int] = None):
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if options:
        cfg.merge_from_dict(options)
    if seed is not None:
        cfg.randomness = dict(cfg.get('randomness') or {}, seed=seed)
    cfg.work_dir = work_dir
    return cfg


def config_seed(config: str, options) -> int:
    """The training seed the config (with the overrides) uses."""
    return int((load(config, '', options).get('randomness') or {})
               .get('seed') or 0)


def own_visualizer(cfg, purpose: str):
    """Give the runner built from ``cfg`` a visualizer of its own.

    mmengine keeps one visualizer per name for the whole process and the
    configs name theirs ``'visualizer'``: the second runner of this process
    would get the first one's, and write its scalars (the stability figures,
    the losses) into the first run's ``vis_data``.
    """
    if cfg.get('visualizer') is not None:
        cfg.visualizer = dict(
            cfg.visualizer,
            name=f'{cfg.work_dir}:{purpose}:{time.time_ns()}')
    return cfg


def test(cfg, checkpoint: str, shuffle_audio: bool) -> Dict:
    from mmengine.runner import Runner
    cfg = cfg.copy()
    cfg.load_from = checkpoint
    cfg.test_dataloader.dataset.shuffle_audio = shuffle_audio
    cfg.default_hooks.visualization = dict(type='SegVisualizationHook')
    purpose = 'test-shuffled' if shuffle_audio else 'test'
    return Runner.from_cfg(own_visualizer(cfg, purpose)).test()


def run(config: str, work_root: str, options, seed: Optional[int] = None,
        subdir: Optional[str] = None,
        time_budget: Optional[float] = None,
        keys: Optional[Sequence[str]] = None) -> Dict:
    """Train one config with one seed (within ``time_budget`` minutes if
    given), test its best checkpoint with true and shuffled audio; one
    row."""
    from mmengine.runner import Runner

    import mmavs  # noqa: F401
    name = osp.splitext(osp.basename(config))[0]
    work_dir = osp.join(work_root, name, *([subdir] if subdir else []))
    cfg = load(config, work_dir, options, seed)
    start = time.time()
    train_cfg = cfg.copy()
    if time_budget is not None:
        train_cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='TimeBudgetHook', minutes=time_budget)]
    runner = Runner.from_cfg(own_visualizer(train_cfg, 'train'))
    runner.train()
    train_minutes = (time.time() - start) / 60
    best = sorted(glob.glob(osp.join(cfg.work_dir, 'best_mIoU_*.pth')))
    if not best:
        raise RuntimeError(f'no best checkpoint in {cfg.work_dir}')
    true_audio = test(cfg, best[-1], shuffle_audio=False)
    shuffled = test(cfg, best[-1], shuffle_audio=True)
    keys = metric_keys(cfg, keys)
    row = dict(name=name, config=config, seed=cfg.randomness.get('seed'),
               minutes=train_minutes, epochs=runner.train_loop.epoch,
               time_budget=time_budget, checkpoint=best[-1], keys=list(keys),
               true=true_audio, shuffled=shuffled)
    for key in keys:
        row[key], row[key + '_shuffled'] = true_audio[key], shuffled[key]
    return row


def _run_in_worker(job: dict) -> Dict:
    """One run in a pool process: its share of the CPU threads."""
    import torch
    torch.set_num_threads(job.pop('threads'))
    return run(**job)


def summarise(rows: List[Dict]) -> List[Dict]:
    """Per config (in first-seen order): the mean and the sample standard
    deviation (0 for one seed) of every column over its seeds."""
    names = list(dict.fromkeys(r['name'] for r in rows))
    summary = []
    for name in names:
        runs = [r for r in rows if r['name'] == name]
        entry = dict(name=name, seeds=[r['seed'] for r in runs],
                     keys=runs[0].get('keys', list(DEFAULT_KEYS)))
        for key, _, _ in columns_of(entry['keys']):
            values = [r[key] for r in runs]
            entry[key] = statistics.fmean(values)
            entry[key + '_std'] = statistics.stdev(values) \
                if len(values) > 1 else 0.0
        summary.append(entry)
    return summary


def print_table(rows: List[Dict]) -> None:
    """One row per run, then (several seeds) mean ± std per config; one
    table per set of metric keys."""
    groups: Dict[tuple, List[Dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r.get('keys', DEFAULT_KEYS)), []).append(r)
    for keys, group in groups.items():
        _print_group(group, keys)


def _print_group(rows: List[Dict], keys: Sequence[str]) -> None:
    columns = columns_of(keys)
    what = 'protocol-A' if tuple(keys) == DEFAULT_KEYS else \
        ', '.join(keys)
    print(f'\nMain job: {what} test metrics, true vs shuffled audio')
    width = max(len(r['name']) for r in rows) + 2
    cell = max(11, max(len(t) for _, t, _ in columns) + 2)
    print(f'{"config":<{width}}{"seed":>6}' +
          ''.join(f'{title:>{cell}}' for _, title, _ in columns))
    for r in rows:
        print(f'{r["name"]:<{width}}{r["seed"]:>6}' +
              ''.join(f'{r[key]:>{cell}{fmt}}' for key, _, fmt in columns))
    if len(rows) == len({r['name'] for r in rows}):
        return
    print('\nMean ± sample standard deviation over the seeds')
    print(f'{"config":<{width}}{"seeds":>6}' +
          ''.join(f'{title:>18}' for _, title, _ in columns))
    for s in summarise(rows):
        cells = ''.join(
            f'{format(s[key], fmt) + " ± " + format(s[key + "_std"], fmt):>18}'
            for key, _, fmt in columns)
        print(f'{s["name"]:<{width}}{len(s["seeds"]):>6}{cells}')


def jobs_of(args) -> List[dict]:
    jobs = []
    for config in args.configs:
        if args.seeds == 1:  # the quick start: the config as it is
            jobs.append(dict(config=config, seed=None, subdir=None))
            continue
        first = config_seed(config, args.cfg_options)
        jobs += [dict(config=config, seed=first + i, subdir=f'seed{first + i}')
                 for i in range(args.seeds)]
    for job in jobs:
        job.update(work_root=args.work_root, options=args.cfg_options,
                   keys=args.metric_keys, time_budget=args.time_budget)
    return jobs


def main(argv: Optional[Sequence[str]] = None) -> List[Dict]:
    args = parse_args(argv)
    if args.device == 'cpu':
        os.environ['CUDA_VISIBLE_DEVICES'] = ''  # before CUDA initialises
    elif args.device == 'cuda':
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('--device cuda, but torch sees no GPU')
    jobs = jobs_of(args)
    done: List[Dict] = []

    def finished(row: Dict) -> None:
        """Keep the row; rewrite the JSON so a killed job leaves its
        finished runs behind."""
        done.append(row)
        if args.json:
            write_json(args.json, done)

    if args.workers <= 1:
        for job in jobs:
            finished(run(**job))
    else:
        for config in args.configs:  # once, not by every worker at once
            prepare_data(config, args.cfg_options)
        # Spawned (not forked) processes: each initialises CUDA itself.
        threads = max(1, (os.cpu_count() or 1) // args.workers)
        for job in jobs:
            job['threads'] = threads
        with ProcessPoolExecutor(args.workers,
                                 mp_context=get_context('spawn')) as pool:
            for future in as_completed(
                    [pool.submit(_run_in_worker, job) for job in jobs]):
                finished(future.result())
    # Runs in the order they were asked for, whichever finished first.
    order = {(j['config'], j['seed']): i for i, j in enumerate(jobs)}
    rows = sorted(done, key=lambda r: order.get(
        (r['config'], r['seed']), order.get((r['config'], None), 0)))
    print_table(rows)
    if args.json:
        write_json(args.json, rows)
    return rows


def write_json(path: str, rows: List[Dict]) -> None:
    with open(path, 'w') as f:
        json.dump(dict(runs=rows, summary=summarise(rows)), f, indent=1)


def prepare_data(config: str, options) -> None:
    """Build the config's training set once, which generates synthetic
    data that is missing."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    import mmavs  # noqa: F401
    cfg = load(config, '', options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    DATASETS.build(cfg.train_dataloader.dataset)


if __name__ == '__main__':
    main()
