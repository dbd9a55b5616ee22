from .bf16_optim_wrapper import BF16OptimWrapper
from .hooks import (AtomicCheckpointHook, CheckpointSaveError,
                    FreezeModuleHook, MatchingStabilityHook,
                    StrictLoadHook, TimeBudgetHook,
                    UncertaintyVisualizationHook)
from .multi_optim_constructor import AVSMultiOptimWrapperConstructor
from .optim_constructor import AVSOptimWrapperConstructor

__all__ = [
    'AtomicCheckpointHook', 'AVSMultiOptimWrapperConstructor',
    'AVSOptimWrapperConstructor', 'BF16OptimWrapper', 'CheckpointSaveError',
    'FreezeModuleHook', 'MatchingStabilityHook', 'StrictLoadHook',
    'TimeBudgetHook', 'UncertaintyVisualizationHook'
]
