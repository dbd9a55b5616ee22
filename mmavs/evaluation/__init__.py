from .functional import batch_independent, frame_statistics, protocol_a
from .metrics import AVSMetric, DumpFrameResults

__all__ = [
    'AVSMetric', 'DumpFrameResults', 'batch_independent', 'frame_statistics',
    'protocol_a'
]
