"""Tiny segmentors and clip batches shared by the model tests.

Clips of T = 2 frames at 64x64, a ResNet-18 of width 8 (levels of 8, 16, 32,
64 channels) and C = 16 fusion channels: every model family builds, trains a
step and predicts in about a second. The batch layout is
``docs/en/architecture.md``'s (what ``avs_collate`` gives the data
preprocessor).
"""
from typing import Optional, Sequence

import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmavs  # noqa: F401

T, SIZE, C = 2, 64, 16
LEVELS = [8, 16, 32, 64]
TPAVI_NECK = dict(type='TPAVINeck', in_channels=LEVELS, channels=C)
FPN_HEAD = dict(type='AVSFPNHead', in_channels=[C] * 4, channels=C)


def tiny_segmentor(neck: Optional[dict] = TPAVI_NECK,
                   decode_head: dict = FPN_HEAD, **overrides):
    """An ``AVSSegmentor`` with the tiny backbone (weights from seed 0);
    ``overrides`` replace top-level entries (``auxiliary_loss``,
    ``backbone``, ...)."""
    init_default_scope('mmseg')
    cfg = dict(
        type='AVSSegmentor',
        data_preprocessor=dict(type='AVSDataPreprocessor'),
        backbone=dict(type='AudioVisualBackbone',
                      visual=dict(type='ResNet', depth=18, base_channels=8,
                                  out_indices=(0, 1, 2, 3))),
        neck=neck, decode_head=decode_head)
    cfg.update(overrides)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def clip_batch(num_clips: int = 2,
               annotated: Optional[Sequence[bool]] = None,
               first_clip: int = 0, seed: Optional[int] = None) -> dict:
    """A collated batch of ``num_clips`` clips: uint8 frames, log-mel audio
    ``(T, 1, 96, 64)`` and binary masks on the ``annotated`` frames (default
    all; the others all 255), clip indices from ``first_clip``. ``seed``
    fixes the random content."""
    if seed is not None:
        torch.manual_seed(seed)
    annotated = list(annotated or [True] * T)
    samples = []
    for b in range(num_clips):
        for t in range(T):
            gt = torch.randint(0, 2, (1, SIZE, SIZE)) if annotated[t] else \
                torch.full((1, SIZE, SIZE), 255)
            samples.append(SegDataSample(
                gt_sem_seg=PixelData(data=gt),
                metainfo=dict(annotated=annotated[t],
                              clip_index=first_clip + b, frame_index=t,
                              img_shape=(SIZE, SIZE),
                              ori_shape=(SIZE, SIZE))))
    return dict(
        inputs=[torch.randint(0, 256, (T, 3, SIZE, SIZE), dtype=torch.uint8)
                for _ in range(num_clips)],
        audio=[torch.randn(T, 1, 96, 64) for _ in range(num_clips)],
        data_samples=samples)
