"""Low-level media: video and audio decoding, waveforms, the VGGish log-mel
DSP and the frame-sampling rules, with one error type, :class:`MediaError`.

Nothing here depends on the rest of mmavs: the datasets, the preparation
tool, the inferencer and the demo all build on it.

- :mod:`.errors`: :class:`MediaError` (names the file and the problem).
- :mod:`.video`: open, probe and write video containers (PyAV).
- :mod:`.audio`: decode a container's soundtrack (inference; AVSBench's
  reference decoding).
- :mod:`.waveform`: WAV files, sample formats, channels, resampling, per-frame
  windows.
- :mod:`.vggish_logmel`: the VGGish log-mel front end in numpy.
- :mod:`.frame_sampling`: the inference and AVSBench-preparation rules for
  which frame (and sound) each sampled frame gets, side by side.
"""
from .audio import (AUDIO_MODES, REFERENCE_CLIP, REFERENCE_DECODE_RATE,
                    decode_audio, read_audio, read_reference_audio)
from .errors import MediaError, import_av
from .frame_sampling import (FRAME_SIZE, SampledFrame, count_intervals,
                             frame_audio_examples, iter_sampled_frames,
                             read_reference_frames, reference_frame_index)
from .vggish_logmel import (EXAMPLE_SAMPLES, EXAMPLE_SHAPE, MIN_AUDIO_SECONDS,
                            SAMPLE_RATE, log_mel_spectrogram, to_mono_16k,
                            waveform_to_examples)
from .video import (VideoInfo, VideoWriter, count_video_frames, open_container,
                    pick_video_codec, probe_video)
from .waveform import (fit_length, read_wav, resample, select_channels,
                       split_windows, to_float)

__all__ = [
    'AUDIO_MODES', 'REFERENCE_CLIP', 'REFERENCE_DECODE_RATE', 'decode_audio',
    'read_audio', 'read_reference_audio', 'MediaError', 'import_av',
    'FRAME_SIZE', 'SampledFrame', 'count_intervals', 'frame_audio_examples',
    'iter_sampled_frames', 'read_reference_frames', 'reference_frame_index',
    'EXAMPLE_SAMPLES', 'EXAMPLE_SHAPE', 'MIN_AUDIO_SECONDS', 'SAMPLE_RATE',
    'log_mel_spectrogram', 'to_mono_16k', 'waveform_to_examples', 'VideoInfo',
    'VideoWriter', 'count_video_frames', 'open_container', 'pick_video_codec',
    'probe_video', 'fit_length', 'read_wav', 'resample', 'select_channels',
    'split_windows', 'to_float'
]
