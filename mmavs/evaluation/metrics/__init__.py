from .avs_metric import AVSMetric
from .dump_frame_results import DumpFrameResults

__all__ = ['AVSMetric', 'DumpFrameResults']
