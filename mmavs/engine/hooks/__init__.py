from .atomic_checkpoint_hook import AtomicCheckpointHook, CheckpointSaveError
from .freeze_module_hook import FreezeModuleHook
from .matching_stability_hook import MatchingStabilityHook
from .strict_load_hook import StrictLoadHook
from .time_budget_hook import TimeBudgetHook
from .uncertainty_hook import UncertaintyVisualizationHook

__all__ = [
    'AtomicCheckpointHook', 'CheckpointSaveError', 'FreezeModuleHook',
    'MatchingStabilityHook', 'StrictLoadHook', 'TimeBudgetHook',
    'UncertaintyVisualizationHook'
]
