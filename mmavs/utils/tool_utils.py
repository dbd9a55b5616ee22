"""What ``tools/train.py`` and ``tools/test.py`` share.

Both tools are thin wrappers around :class:`mmengine.runner.Runner`; what they
have in common (config loading, ``--cfg-options``, the launcher, the work dir,
the local rank and building the runner) lives here so it is written once.
"""
import argparse
import os
import os.path as osp
from typing import Any, Dict, Optional

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Add the arguments both tools accept, except the positional ones.

    Args:
        parser: The tool's parser; gets ``--work-dir``, ``--cfg-options``,
            ``--launcher`` and ``--local_rank``/``--local-rank``.
    """
    parser.add_argument(
        '--work-dir',
        help='directory for logs and checkpoints (default: the config\'s '
        'work_dir, else ./work_dirs/<config file stem>)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, key=value pairs such as '
        'train_cfg.max_epochs=2 or load_from=PATH; lists as a=[1,2]')
    parser.add_argument(
        '--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    parser.add_argument(
        '--non-strict', action='store_true',
        help='load a checkpoint whose keys or shapes do not all match the '
        'model (the rest stays random); by default any mismatch fails')
    # Both spellings: torch.distributed.launch passed --local_rank before
    # torch 2.0 and --local-rank since.
    parser.add_argument(
        '--local_rank', '--local-rank', type=int, default=None,
        help='set by legacy launchers; torchrun sets LOCAL_RANK itself')


def export_local_rank(local_rank: Optional[int]) -> None:
    """Expose a launcher-given local rank as ``LOCAL_RANK``.

    mmengine reads the rank from the environment only, so a rank that came as
    a command-line argument must be copied there.

    Args:
        local_rank: The ``--local_rank`` value, or ``None`` when not given.
    """
    if local_rank is not None:
        os.environ['LOCAL_RANK'] = str(local_rank)


def resolve_work_dir(cfg: Config, cli_work_dir: Optional[str],
                     config_path: str) -> str:
    """The work dir: command line, else config, else ``./work_dirs/<stem>``.

    Args:
        cfg: The loaded config.
        cli_work_dir: ``--work-dir``, or ``None``.
        config_path: Path of the config file, whose stem names the default.

    Returns:
        str: The directory to use.
    """
    if cli_work_dir is not None:
        return cli_work_dir
    if cfg.get('work_dir') is not None:
        return cfg.work_dir
    stem = osp.splitext(osp.basename(config_path))[0]
    return osp.join('./work_dirs', stem)


def load_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply the common arguments to it.

    Args:
        args: Parsed arguments with ``config``, ``work_dir``,
            ``cfg_options``, ``launcher`` and ``local_rank``.

    Returns:
        Config: The config with overrides merged, ``launcher`` and
        ``work_dir`` set.

    Raises:
        SystemExit: The config file does not exist.
    """
    if not osp.isfile(args.config):
        raise SystemExit(f'error: config file not found: {args.config}')
    export_local_rank(args.local_rank)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = resolve_work_dir(cfg, args.work_dir, args.config)
    apply_strict_load(cfg, not getattr(args, 'non_strict', False))
    check_writable_dir(cfg.work_dir, '--work-dir')
    return cfg


def apply_strict_load(cfg: Config, strict: bool) -> None:
    """Make the runner check loaded checkpoints (``StrictLoadHook``).

    Configs built on ``default_runtime.py`` have the hook already; others
    get it here, so that the tools load strictly whatever the config.
    """
    hooks = cfg.get('default_hooks') or {}
    hook = hooks.get('strict_load') or dict(type='StrictLoadHook')
    hook['strict'] = strict
    hooks['strict_load'] = hook
    cfg.default_hooks = hooks


def check_writable_dir(path: str, option: str) -> None:
    """Create ``path`` if needed and prove a file can be written in it.

    Raises:
        SystemExit: Naming the option and the reason, before any work.
    """
    if '://' in path:
        return  # remote storage: left to its backend
    try:
        os.makedirs(path, exist_ok=True)
        probe = osp.join(path, f'.write-test-{os.getpid()}')
        with open(probe, 'w'):
            pass
        os.remove(probe)
    except OSError as err:
        raise SystemExit(f'error: {option} {path} is not writable: '
                         f'{err.strerror or err}') from None


def cli_overrides(args: argparse.Namespace) -> Dict[str, Any]:
    """The ``--cfg-options`` pairs, empty when none were given."""
    return dict(args.cfg_options or {})


def prepare_cpu_distributed(cfg: Config) -> None:
    """Let ``--launcher pytorch`` run on machines without a GPU.

    mmengine's launcher calls ``torch.cuda.set_device`` and wraps the model
    with ``device_ids=[LOCAL_RANK]``, both of which fail on CPU. Without CUDA
    this starts the process group with gloo itself (mmengine then skips its
    own initialisation) and wraps the model without device ids.
    """
    import torch
    import torch.distributed as dist
    if cfg.launcher != 'pytorch' or torch.cuda.is_available():
        return
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def finish_distributed() -> None:
    """Tear the process group down before the interpreter exits.

    Left to interpreter shutdown, gloo's threads can be destroyed while
    still joinable, and a rank then aborts ("terminate called without an
    active exception") after its work is done, failing the whole launch.
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def build_runner(cfg: Config) -> Runner:
    """Build the runner the config asks for (``runner_type``) or a Runner."""
    prepare_cpu_distributed(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
