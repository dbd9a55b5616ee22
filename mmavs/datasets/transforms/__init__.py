from .avss_loading import (LoadAVSSAudio, LoadAVSSColorMask,
                           LoadAVSSWaveform)
from .avss_resize import AVSSRandomScaleCrop, AVSSResize224
from .formatting import PackAVSInputs
from .loading import (ClipFileError, LoadAVSAudio, LoadAVSFrames, LoadAVSMasks,
                      load_log_mel)
from .resize import ResizeAVSClip

__all__ = [
    'PackAVSInputs', 'ClipFileError', 'LoadAVSAudio', 'LoadAVSFrames',
    'LoadAVSMasks', 'ResizeAVSClip', 'load_log_mel', 'LoadAVSSAudio',
    'LoadAVSSColorMask', 'LoadAVSSWaveform', 'AVSSRandomScaleCrop',
    'AVSSResize224'
]
