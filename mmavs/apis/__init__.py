"""Inference on videos and frames: ``AVSInferencer`` and its video I/O."""
from .inferencer import (AudioShorterThanVideoWarning, AVSInferencer,
                         FramePrediction, default_clip_length,
                         default_frame_size, frame_audio_examples,
                         inference_pipeline, init_avs_model)
from .video_io import (VideoInfo, VideoReadError, VideoWriter,
                       iter_sampled_frames, probe_video, read_audio)

__all__ = [
    'AudioShorterThanVideoWarning', 'AVSInferencer', 'FramePrediction',
    'default_clip_length', 'default_frame_size', 'frame_audio_examples',
    'inference_pipeline', 'init_avs_model',
    'VideoInfo', 'VideoReadError', 'VideoWriter', 'iter_sampled_frames',
    'probe_video', 'read_audio'
]
