"""An optimiser constructor that leaves frozen parameters out."""
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmseg.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                            OPTIMIZERS)
from torch import nn


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class AVSOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor, minus parameters frozen at build time.

    The frozen VGGish (about 72M parameters) then takes no optimiser state
    and no weight decay, and the optimiser holds exactly the trainable
    parameters. ``paramwise_cfg`` works as in mmengine.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        model = getattr(model, 'module', model)
        if self.paramwise_cfg:
            params: list = []
            self.add_params(params, model)
            params = [g for g in params if g['params'][0].requires_grad]
        else:
            params = [p for p in model.parameters() if p.requires_grad]
        optimizer = OPTIMIZERS.build(dict(self.optimizer_cfg, params=params))
        wrapper_cfg = dict(self.optim_wrapper_cfg)
        wrapper_cfg.setdefault('type', 'OptimWrapper')
        return OPTIM_WRAPPERS.build(
            wrapper_cfg, default_args=dict(optimizer=optimizer))
