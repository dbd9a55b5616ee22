"""Count a config's parameters per top-level module.

Example::

    python tools/analysis_tools/get_params.py \
        configs/tpavi/tpavi_pvtv2-b5_1xb4-30e_ms3-224x224.py

Weights are not loaded (every ``init_cfg`` is dropped), so no pretrained file
is needed.
"""
import argparse
from typing import Dict

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from torch import nn

import mmavs  # noqa: F401
from mmavs.models.utils.converted_checkpoint import drop_init_cfgs
from mmseg.registry import MODELS


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def count(module: nn.Module, trainable_only: bool) -> int:
    return sum(p.numel() for p in module.parameters()
               if p.requires_grad or not trainable_only)


def parameter_table(model: nn.Module) -> Dict[str, Dict[str, int]]:
    """Per top-level module (an audio-visual backbone per part): counts."""
    parts = {}
    for name, child in model.named_children():
        if name == 'backbone' and hasattr(child, 'visual'):
            # One row per part: visual, audio and, if any, audio_norm.
            parts.update((f'backbone.{sub}', module)
                         for sub, module in child.named_children())
        else:
            parts[name] = child
    parts = {name: m for name, m in parts.items() if count(m, False)}
    return {name: dict(trainable=count(m, True), total=count(m, False))
            for name, m in parts.items()}


def load_model_cfg(config: str, cfg_options=None) -> dict:
    """The config's model, without weights to load, in its default scope."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return drop_init_cfgs(cfg.model.to_dict())


def main():
    args = parse_args()
    model = MODELS.build(load_model_cfg(args.config, args.cfg_options))
    table = parameter_table(model)
    print(f'{"module":<20}{"trainable":>16}{"all":>16}')
    for name, row in table.items():
        print(f'{name:<20}{row["trainable"]:>16,}{row["total"]:>16,}')
    trainable = sum(r['trainable'] for r in table.values())
    total = sum(r['total'] for r in table.values())
    audio = table.get('backbone.audio', dict(total=0))['total']
    print(f'{"total":<20}{trainable:>16,}{total:>16,}')
    print(f'trainable: {trainable / 1e6:.2f}M; with the frozen audio encoder: '
          f'{(trainable + audio) / 1e6:.2f}M (audio encoder {audio / 1e6:.2f}M)')


if __name__ == '__main__':
    main()
