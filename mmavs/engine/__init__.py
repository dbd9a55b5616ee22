from .hooks import FreezeModuleHook, UncertaintyVisualizationHook
from .optim_constructor import AVSOptimWrapperConstructor

__all__ = [
    'AVSOptimWrapperConstructor', 'FreezeModuleHook',
    'UncertaintyVisualizationHook'
]
