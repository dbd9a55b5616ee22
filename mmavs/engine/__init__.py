from .hooks import (AtomicCheckpointHook, CheckpointSaveError,
                    FreezeModuleHook, StrictLoadHook,
                    UncertaintyVisualizationHook)
from .optim_constructor import AVSOptimWrapperConstructor

__all__ = [
    'AtomicCheckpointHook', 'AVSOptimWrapperConstructor',
    'CheckpointSaveError', 'FreezeModuleHook', 'StrictLoadHook',
    'UncertaintyVisualizationHook'
]
