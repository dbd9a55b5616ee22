from .hooks import UncertaintyVisualizationHook
from .optim_constructor import AVSOptimWrapperConstructor

__all__ = ['AVSOptimWrapperConstructor', 'UncertaintyVisualizationHook']
