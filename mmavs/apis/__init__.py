"""Inference on videos and frames: ``AVSInferencer``.

Video and audio decoding live in :mod:`mmavs.media`.
"""
from .inferencer import (AVSInferencer, FramePrediction, default_clip_length,
                         default_frame_size, frame_audio_examples,
                         init_avs_model)

__all__ = [
    'AVSInferencer', 'FramePrediction', 'default_clip_length',
    'default_frame_size', 'frame_audio_examples', 'init_avs_model'
]
