"""Refuse checkpoints that do not fit the model (``load_from``, test, resume).

mmengine's ``Runner.load_checkpoint`` loads non-strictly: a checkpoint of
another model (other widths, another method) loads its matching keys, logs
"size mismatch" lines and the run goes on with a partly random model.
"""
import os.path as osp
from typing import Sequence

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import BaseLoop
from mmseg.registry import HOOKS

from mmavs.utils.checkpoint import check_checkpoint_fits

AUDIO_PREFIX = 'backbone.audio.'


def _unwrap(model):
    return getattr(model, 'module', model)


@HOOKS.register_module()
class StrictLoadHook(Hook):
    """Check every checkpoint the runner loads against its model.

    ``after_load_checkpoint`` runs before mmengine copies the weights, for
    ``load_from`` (training and ``tools/test.py``) and ``--resume``. Any
    missing, unexpected or mismatched key raises
    :class:`mmavs.utils.CheckpointMismatchError` naming the first few keys of
    each kind, their counts and the config named in the checkpoint's meta,
    unless ``strict=False`` (``--non-strict`` of the tools), which only logs
    the same message.

    It also writes the config file into each saved checkpoint's meta
    (``meta['config_file']``) so that such errors can name it.

    Args:
        strict: Fail on any mismatch.
        allow_missing_prefixes: Model keys that may be missing (for a
            ``load_from`` whose remaining weights come from ``init_cfg``).
    """

    priority = 'VERY_HIGH'

    def __init__(self, strict: bool = True,
                 allow_missing_prefixes: Sequence[str] = ()) -> None:
        self.strict = strict
        self.allow_missing_prefixes = tuple(allow_missing_prefixes)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        allowed = self.allow_missing_prefixes
        meta = checkpoint.get('meta') or {}
        training = isinstance(getattr(runner, '_train_loop', None), BaseLoop)
        if (training and not runner._resume and meta.get('converter')
                and 'vggish' in meta and meta['vggish'] is None):
            # tpavi2mmavs --no-vggish: VGGish comes from the model's
            # init_cfg, which training applies before load_from.
            allowed += (AUDIO_PREFIX, )
        source = runner._load_from or 'the resumed checkpoint'
        warning = check_checkpoint_fits(
            _unwrap(runner.model), checkpoint, str(source), self.strict,
            allowed)
        if warning:
            print_log(f'non-strict load (strict_load.strict=False): '
                      f'{warning}', logger='current', level=30)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        filename = getattr(runner.cfg, 'filename', None)
        if filename:
            relative = osp.relpath(filename)
            checkpoint.setdefault('meta', {})['config_file'] = \
                osp.abspath(filename) if relative.startswith('..') \
                else relative
