"""Several optimisers over disjoint parts of one model (OptimWrapperDict)."""
from typing import Dict, Optional

from mmengine.optim import OptimWrapperDict
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn

from .optim_constructor import AVSOptimWrapperConstructor

# Keys of the top-level config that apply to every wrapper (what
# ``tools/train.py --amp`` sets) rather than name one.
SHARED_KEYS = ('type', 'loss_scale', 'dtype')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class AVSMultiOptimWrapperConstructor:
    """Build one :class:`AVSOptimWrapperConstructor` wrapper per named
    entry and return them as mmengine's ``OptimWrapperDict``.

    Config (CAVP, ``cavp.md`` §7: SGD for the model, Adam for the audio
    encoder)::

        optim_wrapper = dict(
            constructor='AVSMultiOptimWrapperConstructor',
            main=dict(optimizer=dict(type='SGD', lr=1e-3, momentum=0.9,
                                     weight_decay=5e-4),
                      paramwise_cfg=dict(bias_decay_mult=0.,
                                         norm_decay_mult=0.,
                                         module_lr_mult={...})),
            audio=dict(optimizer=dict(type='Adam', lr=1e-3,
                                      weight_decay=0.),
                       modules=['backbone.audio']))
        param_scheduler = dict(main=[...], audio=[])   # per wrapper

    Each entry: ``optimizer``, optional ``paramwise_cfg`` (with
    ``module_lr_mult``), optional wrapper ``type`` and its arguments, and
    ``modules``, the module names whose parameters it owns. Exactly one
    entry has no ``modules`` and owns every other parameter. Frozen
    parameters go to no optimiser. :meth:`AVSSegmentor.train_step` runs one
    backward and steps every wrapper. A top-level ``type`` (e.g.
    ``BF16OptimWrapper`` from ``tools/train.py --amp``) applies to all.

    Raises:
        ValueError: no or several entries without ``modules``, a module
            named twice, a top-level ``paramwise_cfg``.
        AttributeError: a named module does not exist.
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        if paramwise_cfg:
            raise ValueError('AVSMultiOptimWrapperConstructor: give each '
                             'optimiser its own paramwise_cfg')
        cfg = dict(optim_wrapper_cfg)
        shared = {k: cfg.pop(k) for k in SHARED_KEYS if k in cfg}
        # A top-level type (tools/train.py --amp) wins over each entry's.
        self.cfgs: Dict[str, dict] = {
            name: dict(dict(sub), **shared)
            for name, sub in cfg.items()
        }
        rest = [n for n, c in self.cfgs.items() if not c.get('modules')]
        if len(rest) != 1:
            raise ValueError(
                'exactly one optimiser must have no `modules` (it takes the '
                f'remaining parameters), got {rest or "none"}')
        self.rest = rest[0]

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        model = getattr(model, 'module', model)
        owner: Dict[int, str] = {}
        for name, cfg in self.cfgs.items():
            for prefix in cfg.get('modules') or []:
                for param in model.get_submodule(prefix).parameters():
                    if id(param) in owner:
                        raise ValueError(
                            f'module {prefix!r} of optimiser {name!r} is '
                            f'also owned by {owner[id(param)]!r}')
                    owner[id(param)] = name
        for param in model.parameters():
            owner.setdefault(id(param), self.rest)
        wrappers = {}
        for name, cfg in self.cfgs.items():
            cfg = dict(cfg)
            cfg.pop('modules', None)
            paramwise = cfg.pop('paramwise_cfg', None)
            keep = {pid for pid, who in owner.items() if who == name}
            wrappers[name] = AVSOptimWrapperConstructor(
                cfg, paramwise).build(model, keep)
        return OptimWrapperDict(**wrappers)
