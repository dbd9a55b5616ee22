"""Train an mmavs model: a thin wrapper around ``mmengine.runner.Runner``.

Usage::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]

``--resume`` alone resumes from the latest checkpoint in the work dir (or from
``load_from`` when that is given with ``--cfg-options``); ``--resume CKPT``
resumes from CKPT. Put CONFIG before a bare ``--resume``, or argparse takes
the config path for CKPT.
"""
import argparse
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
        '--amp', action='store_true',
        help='mixed-precision training with AmpOptimWrapper (needs a GPU)')
    add_common_args(parser)
    return parser.parse_args(argv)


def amp_device_available() -> bool:
    """Whether a device that mmengine's ``AmpOptimWrapper`` accepts exists."""
    return (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available())


def apply_amp(cfg: Config) -> None:
    """Switch the optimizer wrapper to ``AmpOptimWrapper``.

    Raises:
        SystemExit: The config has no ``optim_wrapper``.
    """
    if cfg.get('optim_wrapper') is None:
        raise SystemExit('error: --amp needs an optim_wrapper in the config')
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


def main(argv: Optional[List[str]] = None) -> None:
    """Train the model a config describes."""
    args = parse_args(argv)
    # Fail before building anything: torch's own error surfaces only after
    # the model and data are built, and names no command-line option.
    if args.amp and not amp_device_available():
        sys.exit('error: --amp (mixed precision via AmpOptimWrapper) needs a '
                 'CUDA GPU (or NPU/MLU/MUSA), and none is available; run '
                 'without --amp on this machine.')
    cfg = load_config(args)
    if args.amp:
        apply_amp(cfg)
    apply_resume(cfg, args.resume, cli_overrides(args))
    runner = build_runner(cfg)
    runner.train()
    finish_distributed()


if __name__ == '__main__':
    main()
