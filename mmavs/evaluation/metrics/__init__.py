from .avs_metric import AVSMetric
from .avss_metric import AVSSMetric
from .class_coverage_metric import ClassCoverageMetric
from .dump_frame_results import DumpFrameResults
from .vpo_metric import VPOMetric

__all__ = [
    'AVSMetric', 'AVSSMetric', 'ClassCoverageMetric', 'DumpFrameResults',
    'VPOMetric'
]
