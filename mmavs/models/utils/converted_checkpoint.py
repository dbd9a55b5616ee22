"""Checks and saving shared by the checkpoint converters.

A converter maps a reference state dict onto an mmavs config's model (the
key mappings: :mod:`.ckpt_convert`); these helpers build that model without
reading any weight file, prove that the result loads with ``strict=True``,
and write the file atomically so that an interrupted conversion never leaves
a truncated checkpoint behind. Command lines and printing belong to the
tools (``tools/model_converters/``).
"""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS
from torch import Tensor, nn

from ...utils.atomic_file import atomic_output
from ...version import __version__
from .weight_init import layout_problems


class ConversionError(RuntimeError):
    """The checkpoint cannot be converted for the chosen config."""


def drop_init_cfgs(cfg: object) -> object:
    """A copy of a config without any ``init_cfg`` (no file is read)."""
    if isinstance(cfg, dict):
        return {k: drop_init_cfgs(v) for k, v in cfg.items()
                if k != 'init_cfg'}
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(drop_init_cfgs(v) for v in cfg)
    return cfg


def build_model_without_weights(config: str) -> nn.Module:
    """Build the config's model with random weights."""
    if not osp.isfile(config):
        raise ConversionError(f'config file not found: {config}')
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmseg')):
        return MODELS.build(drop_init_cfgs(cfg.model.to_dict()))


def check_num_classes(num_classes: Optional[int], model: nn.Module,
                      src: str, classifier: str, doc: str) -> None:
    """Refuse a checkpoint whose classifier does not fit the model.

    Args:
        num_classes: Output channels of the checkpoint's classifier.
        model: The target model.
        src: Checkpoint path, for the message.
        classifier: The classifier's key in the checkpoint, for the message.
        doc: Documentation page to point at (it lists the configs of each
            task).
    """
    out = getattr(model.decode_head, 'out_channels', None)
    if num_classes is not None and num_classes != out:
        kind = 'an AVSBench-Semantic (AVSS) checkpoint' \
            if num_classes == 71 else f'a {num_classes}-class checkpoint'
        hint = ('use an AVSS config (*_avss-224x224.py)'
                if num_classes == 71 else
                'use a config of the same task (S4 / MS3 checkpoints are '
                'binary: 1 channel; AVSS: 71)')
        raise ConversionError(
            f'{src} is {kind} ({classifier} has {num_classes} channels), '
            f'but the config predicts {out} channel(s): {hint}; see {doc}.')


def check_strict(state: Mapping[str, Tensor], model: nn.Module,
                 allow_missing_prefix: Optional[str] = None) -> None:
    """Load ``state`` into ``model`` strictly, bar an allowed missing prefix.

    Raises:
        ConversionError: Keys are missing (outside the allowed prefix),
            unexpected or of another shape.
    """
    expected = model.state_dict()
    if allow_missing_prefix:
        expected = OrderedDict((k, v) for k, v in expected.items()
                               if not k.startswith(allow_missing_prefix))
    problems = layout_problems(state, expected)
    if problems:
        raise ConversionError('the converted checkpoint does not load '
                              f'strictly: {"; ".join(problems)}')
    model.load_state_dict(state, strict=allow_missing_prefix is None)


def summarize_dropped(dropped: Sequence[str], source: Mapping[str, Tensor],
                      prefixes: Sequence[str]) -> Dict[str, List[int]]:
    """``{prefix: [tensors, elements]}`` of the dropped source keys."""
    summary: Dict[str, List[int]] = OrderedDict()
    for key in dropped:
        prefix = next((p for p in prefixes if key.startswith(p)), key)
        entry = summary.setdefault(prefix, [0, 0])
        entry[0] += 1
        entry[1] += source[key].numel() if key in source else 0
    return summary


def save_atomic(obj: object, dst: str) -> None:
    """``torch.save`` to a temporary file beside ``dst``, then rename."""
    with atomic_output(dst) as tmp:
        torch.save(obj, tmp)


def conversion_meta(src: str, config: str, repo_root: str, converter: str,
                    source_layout: str, dropped_unused: Mapping[str, list],
                    **extra) -> dict:
    """The ``meta`` saved beside converted weights; ``config`` relative to
    the repository when it lies inside it."""
    config_path = osp.abspath(config)
    return dict(
        converted_from=osp.basename(src),
        source_layout=source_layout,
        converter=converter,
        config=osp.relpath(config_path, repo_root)
        if config_path.startswith(repo_root) else config,
        dropped_unused=dict(dropped_unused),
        mmavs_version=__version__,
        **extra)


def describe_conversion(meta: Mapping, dst: str) -> List[str]:
    """What a converter tool reports: one line for the result, one per
    dropped prefix (the tools print them)."""
    lines = [f'{meta["source_layout"]} -> {dst} (loads strictly into '
             f'{meta["config"]})']
    for prefix, (tensors, elements) in meta['dropped_unused'].items():
        lines.append(f'  dropped unused {prefix}*: {tensors} tensors, '
                     f'{elements:,} values')
    return lines
