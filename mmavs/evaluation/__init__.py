from .functional import batch_independent, frame_statistics, protocol_a
from .metrics import AVSMetric

__all__ = ['AVSMetric', 'batch_independent', 'frame_statistics', 'protocol_a']
