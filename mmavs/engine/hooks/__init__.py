from .freeze_module_hook import FreezeModuleHook
from .uncertainty_hook import UncertaintyVisualizationHook

__all__ = ['FreezeModuleHook', 'UncertaintyVisualizationHook']
