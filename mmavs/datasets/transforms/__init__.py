from .formatting import PackAVSInputs
from .loading import (ClipFileError, LoadAVSAudio, LoadAVSFrames, LoadAVSMasks,
                      load_log_mel)

__all__ = [
    'PackAVSInputs', 'ClipFileError', 'LoadAVSAudio', 'LoadAVSFrames',
    'LoadAVSMasks', 'load_log_mel'
]
