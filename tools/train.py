"""Train an mmavs model: a thin wrapper around ``mmengine.runner.Runner``.

Usage::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--amp-dtype {float16,bfloat16}]
        [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]

``--resume`` alone resumes from the checkpoint that the work dir's
``last_checkpoint`` names (or from ``load_from`` when that is given with
``--cfg-options``); with nothing to resume it stops with an error, unless
``--allow-scratch`` says to start from scratch then. ``--resume CKPT``
resumes from CKPT, which must exist. Put CONFIG before a bare ``--resume``,
or argparse takes the config path for CKPT. Every loaded checkpoint
(``--resume``, ``load_from``) must fit the model unless ``--non-strict``;
see docs/en/reliability.md.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

# Registers mmavs' modules and installs its compatibility fixes (mmcv-lite
# stand-in, restricted checkpoint loader) before any config is built.
import mmavs  # noqa: F401
from mmengine.config import Config
from mmengine.device import (is_cuda_available, is_mlu_available,
                             is_musa_available, is_npu_available)

from mmavs.utils.tool_utils import (add_common_args, build_runner,
                                    cli_overrides, finish_distributed,
                                    load_config)

AUTO_RESUME = 'auto'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line of the training tool."""
    parser = argparse.ArgumentParser(description='Train an mmavs model')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        const=AUTO_RESUME,
        default=None,
        metavar='CKPT',
        help='resume training: from CKPT when given, else from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--allow-scratch', action='store_true',
        help='with a bare --resume, start from scratch when the work dir '
        'holds no checkpoint (default: stop with an error)')
    parser.add_argument(
        '--amp', action='store_true',
        help='mixed-precision training: float16 with AmpOptimWrapper on a '
        'GPU, bfloat16 with BF16OptimWrapper on a CPU-only machine')
    parser.add_argument(
        '--amp-dtype', choices=('float16', 'bfloat16'),
        help='precision of --amp (default: float16 where a GPU is '
        'available, else bfloat16)')
    add_common_args(parser)
    return parser.parse_args(argv)


def amp_device_available() -> bool:
    """Whether a device that mmengine's ``AmpOptimWrapper`` accepts exists."""
    return (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available())


def apply_amp(cfg: Config, dtype: Optional[str] = None) -> None:
    """Switch the optimizer wrapper to mixed precision.

    ``float16``: mmengine's ``AmpOptimWrapper`` with dynamic loss scaling
    (needs a GPU); ``bfloat16``: mmavs' ``BF16OptimWrapper`` (CPU or GPU, no
    scaling needed). Default: float16 where a GPU is available.

    Raises:
        SystemExit: The config has no ``optim_wrapper``, or float16 is asked
            for without a GPU.
    """
    if cfg.get('optim_wrapper') is None:
        raise SystemExit('error: --amp needs an optim_wrapper in the config')
    if dtype is None:
        dtype = 'float16' if amp_device_available() else 'bfloat16'
    if dtype == 'bfloat16':
        cfg.optim_wrapper.type = 'BF16OptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)
        return
    if not amp_device_available():
        raise SystemExit(
            'error: --amp-dtype float16 (AmpOptimWrapper) needs a CUDA GPU '
            '(or NPU/MLU/MUSA), and none is available; use --amp-dtype '
            'bfloat16 on this machine.')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    # Dynamic scaling avoids fp16 gradient underflow without a tuned scale.
    cfg.optim_wrapper.loss_scale = 'dynamic'


def apply_resume(cfg: Config, resume: Optional[str],
                 overrides: dict) -> None:
    """Set ``cfg.resume`` and ``cfg.load_from`` from ``--resume``.

    Args:
        cfg: The loaded config.
        resume: ``None`` (no resume), ``AUTO_RESUME`` (bare ``--resume``) or
            a checkpoint path.
        overrides: The ``--cfg-options`` pairs; a ``load_from`` there names
            the file a bare ``--resume`` continues from.
    """
    if resume is None:
        return
    cfg.resume = True
    if resume != AUTO_RESUME:
        cfg.load_from = resume
    elif 'load_from' not in overrides:
        # None makes the Runner pick the work dir's latest checkpoint; a
        # load_from written in the config file is initial weights, not the
        # run to continue.
        cfg.load_from = None


def check_resume(cfg: Config, allow_scratch: bool) -> None:
    """Stop before building anything when there is nothing to resume.

    mmengine logs "Auto resumed from the latest checkpoint None" and trains
    from scratch when the work dir has no ``last_checkpoint``, and fails late
    on a missing file.

    Raises:
        SystemExit: A named checkpoint is missing, or (unless
            ``allow_scratch``) the work dir holds nothing to resume.
    """
    if not cfg.get('resume'):
        return
    target = cfg.get('load_from')
    if target is not None:
        if '://' not in target and not osp.isfile(target):
            raise SystemExit(f'error: --resume: checkpoint not found: '
                             f'{target}')
        return
    pointer = osp.join(cfg.work_dir, 'last_checkpoint')
    latest = open(pointer).read().strip() if osp.isfile(pointer) else ''
    if latest and ('://' in latest or osp.isfile(latest)):
        return
    reason = (f'{pointer} names {latest}, which does not exist' if latest
              else f'no checkpoint to resume in {cfg.work_dir} (no '
              'last_checkpoint)')
    if allow_scratch:
        print(f'--resume: {reason}; --allow-scratch: training from scratch')
        cfg.resume = False
        return
    raise SystemExit(f'error: --resume: {reason}. Check --work-dir, name a '
                     'checkpoint with --resume CKPT, or add --allow-scratch '
                     'to start from scratch.')


def main(argv: Optional[List[str]] = None) -> None:
    """Train the model a config describes."""
    args = parse_args(argv)
    # Fail before building anything: torch's own error surfaces only after
    # the model and data are built, and names no command-line option.
    if args.amp_dtype == 'float16' and not amp_device_available():
        sys.exit('error: --amp-dtype float16 (AmpOptimWrapper) needs a CUDA '
                 'GPU (or NPU/MLU/MUSA), and none is available; use '
                 '--amp-dtype bfloat16 on this machine.')
    if args.amp_dtype and not args.amp:
        sys.exit('error: --amp-dtype needs --amp')
    cfg = load_config(args)
    if args.amp:
        apply_amp(cfg, args.amp_dtype)
    apply_resume(cfg, args.resume, cli_overrides(args))
    check_resume(cfg, args.allow_scratch)
    runner = build_runner(cfg)
    runner.train()
    finish_distributed()


if __name__ == '__main__':
    main()
