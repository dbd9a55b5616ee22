"""Check that a config's pretrained weight files are there and fit.

Usage::

    python tools/misc/check_pretrained.py CONFIG [--cfg-options k=v ...]

Builds the config's model (which checks every ``init_cfg`` file's names and
shapes against the module it initialises) and runs ``init_weights`` (which
loads them strictly), then lists each file with the module it initialised.
Exit status 1, with the reason, when a file is missing or does not fit.
"""
import argparse
import sys
from typing import Iterator, List, Optional, Sequence, Tuple

import mmavs  # noqa: F401  (registers mmavs' modules and initialisers)
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from torch import nn

from mmseg.registry import MODELS


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def weight_files(cfg: object, key: str = 'model'
                 ) -> Iterator[Tuple[str, str, str]]:
    """``(config key, init type, file)`` of every ``init_cfg`` with a file."""
    if isinstance(cfg, dict):
        init = cfg.get('init_cfg')
        for item in init if isinstance(init, (list, tuple)) else [init]:
            if isinstance(item, dict) and item.get('checkpoint'):
                yield key, item['type'], item['checkpoint']
        for name, value in cfg.items():
            if name != 'init_cfg':
                yield from weight_files(value, f'{key}.{name}')


def module_at(model: nn.Module, key: str) -> nn.Module:
    """The submodule of ``model`` a config key such as
    ``model.backbone.visual`` describes."""
    module = model
    for name in key.split('.')[1:]:
        module = getattr(module, name)
    return module


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    files: List[Tuple[str, str, str]] = list(weight_files(cfg.model.to_dict()))
    if not files:
        print('the config loads no pretrained file')
        return 0
    # init_weights logs every parameter's origin at INFO: keep it quiet.
    MMLogger.get_instance('check_pretrained', log_level='WARNING')
    try:
        with DefaultScope.overwrite_default_scope(
                cfg.get('default_scope', 'mmseg')):
            model = MODELS.build(cfg.model)
            model.init_weights()
    except (FileNotFoundError, ValueError) as err:
        print(f'FAILED: {err}', file=sys.stderr)
        return 1
    for key, init_type, path in files:
        module = module_at(model, key)
        count = sum(p.numel() for p in module.parameters())
        print(f'OK  {path}  ->  {key} ({type(module).__name__}, '
              f'{count:,} parameters, {init_type})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
