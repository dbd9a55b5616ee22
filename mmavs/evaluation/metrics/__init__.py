from .avs_metric import AVSMetric

__all__ = ['AVSMetric']
