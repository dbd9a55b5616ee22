from .bf16_optim_wrapper import BF16OptimWrapper
from .hooks import FreezeModuleHook, UncertaintyVisualizationHook
from .optim_constructor import AVSOptimWrapperConstructor

__all__ = [
    'AVSOptimWrapperConstructor', 'BF16OptimWrapper', 'FreezeModuleHook',
    'UncertaintyVisualizationHook'
]
