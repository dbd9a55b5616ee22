"""Freeze a submodule for the first epochs of training."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class FreezeModuleHook(Hook):
    """Keep a submodule's parameters frozen for the first ``epochs`` epochs.

    AVSegFormer trains its heads for 5 (S4) / 10 (MS3) epochs with the
    visual backbone frozen. Before every training epoch this hook sets
    ``requires_grad`` of the submodule's parameters from the epoch number,
    so resuming inside or after the frozen phase gives the same state.
    Frozen parameters get no gradient, so the optimiser (built before any
    hook runs, with these parameters in it) leaves them and their state
    untouched, and the backward pass skips the submodule.

    Under DDP set ``find_unused_parameters = True`` in the config (the
    AVSegFormer configs do).

    Args:
        epochs: Number of frozen epochs from the start.
        module: Dotted path of the submodule in the model.
    """

    priority = 'NORMAL'

    def __init__(self, epochs: int, module: str = 'backbone.visual') -> None:
        if epochs < 0:
            raise ValueError(f'epochs must be >= 0, got {epochs}')
        self.epochs = epochs
        self.module = module

    def before_train_epoch(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        try:
            target = model.get_submodule(self.module)
        except AttributeError as error:
            raise AttributeError(
                f'FreezeModuleHook: the model has no submodule '
                f'"{self.module}"') from error
        frozen = runner.epoch < self.epochs
        params = list(target.parameters())
        if any(p.requires_grad == frozen for p in params):
            runner.logger.info(
                f'{"Freezing" if frozen else "Unfreezing"} {self.module} '
                f'({sum(p.numel() for p in params):,} parameters) at epoch '
                f'{runner.epoch + 1}')
        for param in params:
            param.requires_grad_(not frozen)
