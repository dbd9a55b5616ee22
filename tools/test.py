"""Test an mmavs checkpoint: a thin wrapper around ``mmengine.runner.Runner``.

Usage::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE.pkl]
        [--show] [--show-dir DIR] [--wait-time S] [--non-strict]
        [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]

The checkpoint must fit the config's model: any missing, unexpected or
mismatched key stops the test with the first few keys, their counts and the
config named in the checkpoint's meta, unless ``--non-strict``. ``--out``,
``--show-dir`` and ``--work-dir`` are checked writable before the test.

``--out`` dumps every frame's data sample (prediction, probabilities,
metainfo) with ``DumpFrameResults``, mmengine's ``DumpResults`` made to keep
all frames of a clip dataset. ``--show-dir DIR`` saves one
overlay per test frame, drawn by mmseg's ``SegVisualizationHook``, as
``DIR/vis_data/vis_image/test_<frame file name>_<iter>.png`` (``<iter>`` is the
runner's iteration, 0 when testing a loaded checkpoint); a model that samples
several latents (DiffusionAVS, ``model.neck.num_samples > 1``) also gets
``DIR/vis_data/vis_image/<frame>_uncertainty.png``, the samples' spread.
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional

# Registers mmavs' modules and installs its compatibility fixes (mmcv-lite
# stand-in, restricted checkpoint loader) before any config is built.
import mmavs  # noqa: F401
from mmengine.config import Config
from mmengine.dist import is_main_process

from mmavs.utils.tool_utils import (add_common_args, build_runner,
                                    check_writable_dir, finish_distributed,
                                    load_config)

PROTOCOL_A_KEYS = ('mIoU', 'Fscore')
BATCH_INDEPENDENT_KEYS = ('mIoU_protoB', 'fgIoU_protoB', 'Fscore_protoB',
                          'Fscore_framemean')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line of the test tool."""
    parser = argparse.ArgumentParser(description='Test an mmavs checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file to test')
    parser.add_argument(
        '--out', help='dump the per-frame predictions to this .pkl file')
    parser.add_argument(
        '--show', action='store_true', help='display each drawn frame')
    parser.add_argument(
        '--show-dir',
        help='save one overlay per frame under '
        'SHOW_DIR/vis_data/vis_image/')
    parser.add_argument(
        '--wait-time', type=float, default=2,
        help='seconds each frame is displayed with --show')
    parser.add_argument(
        '--amp', action='store_true',
        help='test under autocast: float16 on a GPU, bfloat16 on a CPU')
    add_common_args(parser)
    return parser.parse_args(argv)


def check_args(args: argparse.Namespace) -> None:
    """Reject arguments that would fail late or silently do nothing.

    Raises:
        SystemExit: With a message naming the faulty argument.
    """
    is_remote = '://' in args.checkpoint
    if not is_remote and not osp.isfile(args.checkpoint):
        raise SystemExit(
            f'error: checkpoint file not found: {args.checkpoint}')
    if args.out and not args.out.endswith(('.pkl', '.pickle')):
        raise SystemExit(
            f'error: --out must name a .pkl or .pickle file, got {args.out}')
    if args.out:
        check_writable_dir(osp.dirname(osp.abspath(args.out)), '--out')
    if args.show_dir:
        check_writable_dir(args.show_dir, '--show-dir')
    if args.show and args.show_dir:
        # SegVisualizationHook drops every vis backend when show=True, so
        # nothing would reach the directory.
        raise SystemExit('error: --show and --show-dir cannot be combined; '
                         'mmseg\'s SegVisualizationHook saves nothing while '
                         'showing')


def add_dump_metric(cfg: Config, out_file: str) -> None:
    """Append a dump of every frame's data sample to the test evaluator.

    The dump is ``DumpFrameResults`` from ``mmavs.evaluation``: plain
    ``DumpResults`` would keep only ``len(dataset)`` frames, as the dataset
    counts clips; see :class:`DumpFrameResults`.
    """
    dump = dict(type='mmseg.DumpFrameResults', out_file_path=out_file)
    evaluator = cfg.get('test_evaluator')
    if evaluator is None:
        cfg.test_evaluator = [dump]
    elif isinstance(evaluator, dict) and 'metrics' in evaluator:
        # An explicit Evaluator config keeps its metrics under 'metrics'.
        metrics = evaluator['metrics']
        evaluator['metrics'] = (list(metrics) if isinstance(
            metrics, (list, tuple)) else [metrics]) + [dump]
    elif isinstance(evaluator, dict):
        cfg.test_evaluator = [evaluator, dump]
    else:
        cfg.test_evaluator = list(evaluator) + [dump]


def enable_visualization(cfg: Config, show: bool, show_dir: Optional[str],
                         wait_time: float) -> None:
    """Turn on ``SegVisualizationHook`` for every test frame.

    The hook draws each output frame on the image it re-reads from the
    frame's ``img_path``; the visualizer's local backend writes it to
    ``<save_dir>/vis_data/vis_image/test_<basename>_<iter>.png``, so setting
    ``save_dir`` to ``show_dir`` puts one file per frame under it (mmseg
    1.x's ``--show-dir`` semantics).
    """
    hooks = cfg.get('default_hooks') or {}
    hook = hooks.get('visualization') or dict(
        type='mmseg.SegVisualizationHook')
    hook['draw'] = True
    hook['interval'] = 1  # every batch, hence every frame
    if show:
        hook['show'] = True
        hook['wait_time'] = wait_time
    hooks['visualization'] = hook
    cfg.default_hooks = hooks
    if show_dir:
        visualizer = cfg.get('visualizer') or dict(
            type='mmseg.SegLocalVisualizer')
        if not visualizer.get('vis_backends'):
            visualizer['vis_backends'] = [dict(type='LocalVisBackend')]
        visualizer['save_dir'] = show_dir
        cfg.visualizer = visualizer
        # DiffusionAVS with several samples: its uncertainty beside each
        # overlay, as <frame>_uncertainty.png.
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='mmseg.UncertaintyVisualizationHook',
                 out_dir=osp.join(show_dir, 'vis_data', 'vis_image'))
        ]


def _find(metrics: Dict[str, object], name: str) -> Optional[str]:
    """The key of ``name`` in ``metrics``, also under a ``prefix/``."""
    for key in metrics:
        if key == name or key.endswith('/' + name):
            return key
    return None


def _format(value: object) -> str:
    try:
        return f'{float(value):.4f}'
    except (TypeError, ValueError):
        return str(value)


def format_summary(metrics: Dict[str, object]) -> str:
    """A table of all metrics: protocol A first, then protocol B, then rest.

    Args:
        metrics: What ``runner.test()`` returned.

    Returns:
        str: The table, one metric a line.
    """
    groups = []
    for title, names in (
            ('protocol A (the numbers papers compare)', PROTOCOL_A_KEYS),
            ('batch-independent variants', BATCH_INDEPENDENT_KEYS)):
        keys = [k for k in (_find(metrics, n) for n in names) if k]
        groups.append((title, keys))
    listed = {k for _, keys in groups for k in keys}
    groups.append(('other metrics', [k for k in metrics if k not in listed]))
    width = max([len(k) for k in metrics] + [6])
    lines = ['Test results (protocol A: mIoU, Fscore; batch-independent: '
             '*_protoB, Fscore_framemean)']
    for title, keys in groups:
        if keys:
            lines.append(f'-- {title}')
            lines += [f'{k:<{width}}  {_format(metrics[k])}' for k in keys]
    if not metrics:
        lines.append('(the evaluator returned no metric)')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    """Test a checkpoint on the config's test split and print its metrics."""
    args = parse_args(argv)
    check_args(args)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.out:
        add_dump_metric(cfg, args.out)
    if args.show or args.show_dir:
        enable_visualization(cfg, args.show, args.show_dir, args.wait_time)
    if args.amp:
        # mmengine's TestLoop runs the model under autocast (bfloat16 when
        # the device is a CPU).
        cfg.test_cfg = dict(cfg.get('test_cfg') or dict(type='TestLoop'),
                            fp16=True)
    runner = build_runner(cfg)
    metrics = runner.test()
    # Every rank receives the metrics; one copy of the table is enough.
    if is_main_process():
        print(format_summary(metrics or {}))
        sys.stdout.flush()
    finish_distributed()


if __name__ == '__main__':
    main()
