"""Inference on videos and frames: ``AVSInferencer``.

Video and audio decoding live in :mod:`mmavs.media`.
"""
from .inferencer import (AudioShorterThanVideoWarning, AVSInferencer,
                         FramePrediction, default_clip_length,
                         default_frame_size, frame_audio_examples,
                         inference_pipeline, init_avs_model)

__all__ = [
    'AudioShorterThanVideoWarning', 'AVSInferencer', 'FramePrediction',
    'default_clip_length', 'default_frame_size', 'frame_audio_examples',
    'inference_pipeline', 'init_avs_model'
]
