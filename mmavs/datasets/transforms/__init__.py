from .audio import LoadAudioWaveform, WaveformToLogMel
from .avss_loading import (LoadAVSSAudio, LoadAVSSColorMask,
                           LoadAVSSWaveform)
from .avss_resize import AVSSRandomScaleCrop, AVSSResize224
from .formatting import PackAVSInputs
from .loading import (ClipFileError, LoadAVSAudio, LoadAVSFrames, LoadAVSMasks,
                      load_log_mel)
from .resize import ResizeAVSClip
from .vpo_augment import VPO_SCALES, AVSColorJitter, VPORandomFlip
from .vpo_loading import LoadVPOAudio, LoadVPOMask

__all__ = [
    'PackAVSInputs', 'ClipFileError', 'LoadAVSAudio', 'LoadAVSFrames',
    'LoadAVSMasks', 'ResizeAVSClip', 'load_log_mel', 'LoadAVSSAudio',
    'LoadAVSSColorMask', 'LoadAVSSWaveform', 'AVSSRandomScaleCrop',
    'AVSSResize224', 'LoadAudioWaveform', 'WaveformToLogMel', 'AVSColorJitter',
    'VPORandomFlip', 'VPO_SCALES', 'LoadVPOAudio', 'LoadVPOMask'
]
