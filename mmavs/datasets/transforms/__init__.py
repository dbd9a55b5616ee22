from .audio import LoadAudioWaveform, WaveformToLogMel
from .formatting import PackAVSInputs
from .loading import (ClipFileError, LoadAVSAudio, LoadAVSFrames, LoadAVSMasks,
                      load_log_mel)
from .resize import ResizeAVSClip

__all__ = [
    'PackAVSInputs', 'ClipFileError', 'LoadAVSAudio', 'LoadAVSFrames',
    'LoadAVSMasks', 'ResizeAVSClip', 'load_log_mel', 'LoadAudioWaveform',
    'WaveformToLogMel'
]
