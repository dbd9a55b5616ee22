"""An optimiser constructor that leaves frozen parameters out."""
from typing import Dict, Optional, Set

from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmseg.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                            OPTIMIZERS)
from torch import nn


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class AVSOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor, minus parameters frozen at build time.

    The frozen VGGish (about 72M parameters) then takes no optimiser state
    and no weight decay, and the optimiser holds exactly the trainable
    parameters. ``paramwise_cfg`` works as in mmengine, plus one key:

    - ``module_lr_mult``: ``{module name prefix: factor}``, e.g.
      ``{'neck.decoder': 10., 'decode_head': 10.}`` (CAVP's 10× head,
      ``cavp.md`` §7). Unlike mmengine's ``custom_keys`` it is applied on
      top of the other rules, so ``bias_decay_mult`` / ``norm_decay_mult``
      still hold for those modules; the longest matching prefix wins.
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        paramwise_cfg = dict(paramwise_cfg or {})
        self.module_lr_mult: Dict[str, float] = dict(
            paramwise_cfg.pop('module_lr_mult', None) or {})
        super().__init__(optim_wrapper_cfg, paramwise_cfg or None)

    def __call__(self, model: nn.Module) -> OptimWrapper:
        return self.build(model)

    def build(self, model: nn.Module,
              keep: Optional[Set[int]] = None) -> OptimWrapper:
        """The wrapper over ``model``'s trainable parameters, or only those
        whose ``id`` is in ``keep``."""
        model = getattr(model, 'module', model)
        if self.paramwise_cfg or self.module_lr_mult:
            params: list = []
            self.add_params(params, model)
            params = [g for g in params if g['params'][0].requires_grad]
            if keep is not None:
                params = [g for g in params if id(g['params'][0]) in keep]
            self._apply_module_lr_mult(params, model)
        else:
            params = [p for p in model.parameters() if p.requires_grad and (
                keep is None or id(p) in keep)]
        optimizer = OPTIMIZERS.build(dict(self.optimizer_cfg, params=params))
        wrapper_cfg = dict(self.optim_wrapper_cfg)
        wrapper_cfg.setdefault('type', 'OptimWrapper')
        return OPTIM_WRAPPERS.build(
            wrapper_cfg, default_args=dict(optimizer=optimizer))

    def _apply_module_lr_mult(self, groups: list, model: nn.Module) -> None:
        if not self.module_lr_mult:
            return
        names = {id(p): n for n, p in model.named_parameters()}
        prefixes = sorted(self.module_lr_mult, key=len, reverse=True)
        for group in groups:
            name = names[id(group['params'][0])]
            for prefix in prefixes:
                if name == prefix or name.startswith(prefix + '.'):
                    group['lr'] = group.get('lr', self.base_lr) * \
                        self.module_lr_mult[prefix]
                    break
