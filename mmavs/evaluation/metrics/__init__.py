from .avs_metric import AVSMetric
from .avss_metric import AVSSMetric
from .dump_frame_results import DumpFrameResults

__all__ = ['AVSMetric', 'AVSSMetric', 'DumpFrameResults']
