from .functional import batch_independent, frame_statistics, protocol_a
from .metrics import (AVSMetric, AVSSMetric, ClassCoverageMetric,
                      DumpFrameResults, VPOMetric)
from .semantic import (class_counts, dataset_level_protocol,
                       per_frame_protocol, summarize)

__all__ = [
    'AVSMetric', 'AVSSMetric', 'ClassCoverageMetric', 'DumpFrameResults',
    'batch_independent', 'class_counts', 'dataset_level_protocol',
    'frame_statistics', 'per_frame_protocol', 'protocol_a', 'summarize',
    'VPOMetric'
]
