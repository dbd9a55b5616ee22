from .uncertainty_hook import UncertaintyVisualizationHook

__all__ = ['UncertaintyVisualizationHook']
